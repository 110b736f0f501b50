// `npm run build`, after tsc: the pages' plain JS and CSS (src/ui/assets) go beside the compiled
// code (dist/ui/assets), where src/ui/page.ts reads them at run time.
import { cpSync, rmSync } from 'node:fs';

rmSync('dist/ui/assets', { recursive: true, force: true });
cpSync('src/ui/assets', 'dist/ui/assets', { recursive: true });
