import { nextStep, planToolBatches, validateUserText } from '../../src/workflows/decisions';

/** A call named by a letter; upper case is parallel-safe, lower case is exclusive. */
const calls = (spec: string) => [...spec].map((c) => ({ id: c, parallelSafe: c === c.toUpperCase() }));
/** The batches as strings of call ids, e.g. `['AB', 'c']`. */
const ids = (batches: Array<Array<{ id: string }>>) => batches.map((b) => b.map((c) => c.id).join(''));

describe('planToolBatches', () => {
  it.each([
    { name: 'no calls', spec: '', expected: [] },
    { name: 'one exclusive call', spec: 'a', expected: ['a'] },
    { name: 'all exclusive calls one by one', spec: 'abc', expected: ['a', 'b', 'c'] },
    { name: 'all parallel-safe calls in one batch', spec: 'ABC', expected: ['ABC'] },
    { name: 'a safe run before an exclusive call', spec: 'ABc', expected: ['AB', 'c'] },
    { name: 'an exclusive call before a safe run', spec: 'aBC', expected: ['a', 'BC'] },
    { name: 'safe runs split by an exclusive call', spec: 'ABcDE', expected: ['AB', 'c', 'DE'] },
    { name: 'alternating calls', spec: 'AbCd', expected: ['A', 'b', 'C', 'd'] },
    { name: 'exclusive calls around one safe call', spec: 'aBc', expected: ['a', 'B', 'c'] },
  ])('plans $name', ({ spec, expected }) => {
    expect(ids(planToolBatches(calls(spec)))).toEqual(expected);
  });

  it.each(['', 'a', 'ABC', 'abc', 'ABcDEfgHI', 'aBcDeF'])('gives back the calls of %j in order when flattened', (spec) => {
    const input = calls(spec);
    const flat = planToolBatches(input).flat();
    expect(flat).toEqual(input);
    flat.forEach((call, i) => expect(call).toBe(input[i]));
  });

  it('never puts an exclusive call in a batch with another call', () => {
    const batches = planToolBatches(calls('aBCdEfGHij'));
    for (const batch of batches) if (batch.some((c) => !c.parallelSafe)) expect(batch).toHaveLength(1);
  });
});

describe('nextStep', () => {
  it.each([
    { name: 'finishes when the response has no calls', calls: [], expected: { kind: 'finish' } },
    { name: 'runs tools when the response has one call', calls: [{}], expected: { kind: 'run-tools' } },
    { name: 'runs tools when the response has several calls', calls: [{}, {}, {}], expected: { kind: 'run-tools' } },
  ])('$name', ({ calls: given, expected }) => {
    expect(nextStep(given)).toEqual(expected);
  });
});

describe('validateUserText', () => {
  it.each([
    { name: 'a number', text: 42, max: 10, expected: 'input text must be a string' },
    { name: 'undefined', text: undefined, max: 10, expected: 'input text must be a string' },
    { name: 'null', text: null, max: 10, expected: 'input text must be a string' },
    { name: 'an empty string', text: '', max: 10, expected: 'input text is empty' },
    { name: 'only whitespace', text: ' \n\t ', max: 10, expected: 'input text is empty' },
    {
      name: 'text over the byte limit',
      text: 'x'.repeat(11),
      max: 10,
      expected: 'input text is 11 bytes; the limit is 10 bytes (put large content in a file and refer to it)',
    },
    {
      name: 'multibyte text over the byte limit but not the character limit',
      text: '€€€€',
      max: 10,
      expected: 'input text is 12 bytes; the limit is 10 bytes (put large content in a file and refer to it)',
    },
    { name: 'text at exactly the byte limit', text: 'x'.repeat(10), max: 10, expected: null },
    { name: 'ordinary text', text: 'fix the tests', max: 1000, expected: null },
    { name: 'text with surrounding whitespace', text: '  hi  ', max: 10, expected: null },
  ])('returns $expected for $name', ({ text, max, expected }) => {
    expect(validateUserText(text, max)).toBe(expected);
  });
});
