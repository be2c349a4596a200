import {
  DEFAULT_OUTPUT_BUDGET_BYTES,
  HeadTailCollector,
  omissionMarker,
  truncateHeadTail,
} from '../../src/tools/output-truncation';

describe('truncateHeadTail', () => {
  it.each([
    { name: 'empty text', text: '', budget: 10, totalLines: 0 },
    { name: 'short text', text: 'abc', budget: 10, totalLines: 1 },
    { name: 'text exactly at the budget', text: '0123456789', budget: 10, totalLines: 1 },
    { name: 'text ending in a newline', text: 'a\nb\n', budget: 10, totalLines: 2 },
    { name: 'text with a final unterminated line', text: 'a\nb', budget: 10, totalLines: 2 },
    { name: 'multibyte text within the budget', text: 'é€😀', budget: 9, totalLines: 1 },
  ])('returns $name unchanged when it fits the budget', ({ text, budget, totalLines }) => {
    expect(truncateHeadTail(text, budget)).toEqual({ text, truncated: false, totalLines, omittedBytes: 0, omittedLines: 0 });
  });

  it.each([
    {
      name: 'keeps the first and last half of the budget around the marker',
      text: '0123456789ABCDEFGHIJ',
      budget: 10,
      expected: { text: '01234\n[... omitted 10 bytes (0 lines) ...]\nFGHIJ', totalLines: 1, omittedBytes: 10, omittedLines: 0 },
    },
    {
      name: 'counts the line breaks inside the omitted part',
      text: 'l1\nl2\nl3\nl4\nl5\n',
      budget: 6,
      expected: { text: 'l1\n[... omitted 9 bytes (3 lines) ...]\nl5\n', totalLines: 5, omittedBytes: 9, omittedLines: 3 },
    },
    {
      name: 'moves cuts inside 3-byte characters into the omitted part',
      text: '€€€€',
      budget: 8,
      expected: { text: '€\n[... omitted 6 bytes (0 lines) ...]\n€', totalLines: 1, omittedBytes: 6, omittedLines: 0 },
    },
    {
      name: 'omits a 4-byte character rather than splitting it',
      text: '😀😀😀',
      budget: 6,
      expected: { text: '[... omitted 12 bytes (0 lines) ...]\n', totalLines: 1, omittedBytes: 12, omittedLines: 0 },
    },
    {
      name: 'keeps a 2-byte character that ends exactly at the head budget',
      text: 'ééééé',
      budget: 5,
      expected: { text: 'é\n[... omitted 6 bytes (0 lines) ...]\né', totalLines: 1, omittedBytes: 6, omittedLines: 0 },
    },
  ])('$name', ({ text, budget, expected }) => {
    expect(truncateHeadTail(text, budget)).toEqual({ ...expected, truncated: true });
  });

  it('never splits a character and keeps a true prefix and suffix for any budget', () => {
    const text = 'ab€\nc😀d\néé\n€😀x\n'.repeat(20);
    for (let budget = 1; budget < Buffer.byteLength(text); budget += 1) {
      const result = truncateHeadTail(text, budget);
      expect(result.text).not.toContain('\uFFFD');
      const [before, tail] = result.text.split(/\[\.\.\. omitted \d+ bytes \(\d+ lines\) \.\.\.\]\n/);
      // `before` is the head plus, when the head ends mid-line, one separating newline.
      expect(text.startsWith(before.replace(/\n$/, ''))).toBe(true);
      expect(text.endsWith(tail)).toBe(true);
      const kept = Buffer.byteLength(text) - result.omittedBytes;
      expect([Buffer.byteLength(before + tail), Buffer.byteLength(before + tail) - 1]).toContain(kept);
      // Each of the two cuts gives up at most the 3 bytes of a partial character.
      expect(kept).toBeLessThanOrEqual(budget);
      expect(kept).toBeGreaterThanOrEqual(budget - 6);
    }
  });

  it('uses a 10 KiB budget by default', () => {
    expect(DEFAULT_OUTPUT_BUDGET_BYTES).toBe(10 * 1024);
    expect(truncateHeadTail('x'.repeat(10 * 1024)).truncated).toBe(false);
    expect(truncateHeadTail('x'.repeat(10 * 1024 + 1)).truncated).toBe(true);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects a budget of %p', (budget) => {
    expect(() => truncateHeadTail('abc', budget)).toThrow(RangeError);
  });
});

describe('omissionMarker', () => {
  it('renders the one-line marker', () => {
    expect(omissionMarker(5678, 901)).toBe('[... omitted 5678 bytes (901 lines) ...]');
  });
});

describe('HeadTailCollector', () => {
  it('gives the same result whether the stream arrives in one chunk or byte by byte', () => {
    const bytes = Buffer.from('héllo wörld\n'.repeat(50) + 'tail 😀 end', 'utf8');
    const whole = new HeadTailCollector(64);
    whole.push(bytes);
    const bytewise = new HeadTailCollector(64);
    for (const byte of bytes) bytewise.push(Uint8Array.of(byte));
    expect(bytewise.finish()).toEqual(whole.finish());
  });

  it('counts every byte and line of a large stream while keeping only the budget', () => {
    const collector = new HeadTailCollector(100);
    const line = Buffer.from(`${'z'.repeat(99)}\n`);
    for (let i = 0; i < 10_000; i += 1) collector.push(line);
    const result = collector.finish();
    expect({ ...result, text: undefined }).toEqual({
      text: undefined,
      truncated: true,
      totalBytes: 1_000_000,
      totalLines: 10_000,
      omittedBytes: 999_900,
      omittedLines: 9_999,
    });
    expect(result.text).toBe(`${'z'.repeat(50)}\n[... omitted 999900 bytes (9999 lines) ...]\n${'z'.repeat(49)}\n`);
  });

  it('decodes invalid UTF-8 with replacement characters instead of throwing', () => {
    const collector = new HeadTailCollector(100);
    collector.push(Uint8Array.of(0xff, 0xfe, 0x41, 0x80, 0x0a));
    expect(collector.finish()).toEqual({
      text: '\uFFFD\uFFFDA\uFFFD\n',
      truncated: false,
      totalBytes: 5,
      totalLines: 1,
      omittedBytes: 0,
      omittedLines: 0,
    });
  });

  it('copies pushed chunks so the caller may reuse its buffer', () => {
    const collector = new HeadTailCollector(100);
    const buffer = Buffer.from('first');
    collector.push(buffer);
    buffer.fill('x');
    expect(collector.finish().text).toBe('first');
  });
});
