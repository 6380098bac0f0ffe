/**
 * The README's operator walkthrough is scripts/walkthrough.sh, character for character:
 * the integration suite runs the script, so what the README shows is what was run.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');

describe('README walkthrough', () => {
  it('shows scripts/walkthrough.sh exactly, between its markers', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const block = /<!-- walkthrough\.sh: begin -->\n```bash\n([\s\S]*?)```\n<!-- walkthrough\.sh: end -->/.exec(readme);
    assert.ok(block, 'README.md has the walkthrough block between its markers');
    const script = readFileSync(path.join(ROOT, 'scripts', 'walkthrough.sh'), 'utf8');
    assert.equal(block[1], script, 'README.md shows scripts/walkthrough.sh as it is (copy the script into the block after changing it)');
  });

  it('is what `npm run walkthrough` runs', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts.walkthrough, 'bash scripts/walkthrough.sh');
  });
});
