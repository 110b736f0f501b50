/**
 * The seeded random generator and seed hash now live in src/util/random.ts (one copy for the whole
 * tree outside the engine); this name stays for the content and simulate modules that import it.
 */
export * from '../util/random.js';
