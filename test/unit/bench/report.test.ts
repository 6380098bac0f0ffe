import assert from 'node:assert/strict';
import { failureClass, stageTable } from '../../../bench/dist/report';

describe('bench report', () => {
  it('the stage table lists each stage with its count, wall seconds and rate, and the total', () => {
    const table = stageTable(
      [
        { stage: 'meters registered', count: 2000, ms: 40_000 },
        { stage: 'order settled', count: 1, ms: 500 },
        { stage: 'nothing', count: 0, ms: 0 },
      ],
      600_000,
    );
    const lines = table.split('\n');
    assert.equal(lines.length, 6); // head, rule, three stages, total
    assert.match(lines[0] ?? '', /^stage\s+count\s+wall s\s+per s$/);
    assert.match(lines[2] ?? '', /^meters registered\s+2000\s+40\.0\s+50\.0$/);
    assert.match(lines[3] ?? '', /^order settled\s+1\s+0\.5\s+2\.0$/);
    assert.match(lines[4] ?? '', /^nothing\s+0\s+0\.0\s+-$/);
    assert.match(lines[5] ?? '', /^total \(wall, every stage\)\s+600\.0$/);
    // Columns line up: every row as wide as the rule.
    const width = (lines[1] ?? '').length;
    for (const l of lines) assert.ok(l.length <= width, l);
  });

  it('failure kinds fall into refused (4xx, MVCC) and transport (timeouts, 5xx)', () => {
    assert.equal(failureClass('mvcc'), 'refused');
    assert.equal(failureClass('rejected:RULE_VIOLATION'), 'refused');
    assert.equal(failureClass('timeout'), 'transport');
    assert.equal(failureClass('connection'), 'transport');
    assert.equal(failureClass('ledger:LEDGER_REJECTED'), 'transport');
  });
});
