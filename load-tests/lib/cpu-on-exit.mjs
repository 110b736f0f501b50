/**
 * Preloaded into a timed `simulate` (`node --import …`): at exit it writes the process's CPU time
 * (user + system, in seconds) to stderr as one line, `nimsim-cpu-s <seconds>`, so a benchmark can
 * report CPU seconds of a child as well as its wall time. Load tests only.
 */
import process from 'node:process';

process.on('exit', () => {
  const { user, system } = process.cpuUsage();
  process.stderr.write(`nimsim-cpu-s ${(user + system) / 1e6}\n`);
});
