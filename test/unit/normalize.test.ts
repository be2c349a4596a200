import { ABORTED_OUTPUT, abortedOutputFor, callsWithoutOutput, normalizeHistory } from '../../src/items/normalize';
import type { ConversationItem } from '../../src/items/schemas';

const user = (text: string): ConversationItem => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });
const assistant = (text: string): ConversationItem => ({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] });
const reasoning: ConversationItem = { type: 'reasoning', summary: [], encrypted_content: 'opaque' };
const call = (id: string): ConversationItem => ({ type: 'function_call', call_id: id, name: 'shell', arguments: '{}' });
const output = (id: string, text = `out ${id}`): ConversationItem => ({ type: 'function_call_output', call_id: id, output: text });
const customCall = (id: string): ConversationItem => ({ type: 'custom_tool_call', call_id: id, name: 'apply_patch', input: '*** Begin Patch' });
const customOutput = (id: string, text = `out ${id}`): ConversationItem => ({ type: 'custom_tool_call_output', call_id: id, output: text });
const aborted = (id: string): ConversationItem => ({ type: 'function_call_output', call_id: id, output: ABORTED_OUTPUT });
const customAborted = (id: string): ConversationItem => ({ type: 'custom_tool_call_output', call_id: id, output: ABORTED_OUTPUT });

describe('normalizeHistory', () => {
  it.each([
    { name: 'an empty history', items: [] },
    { name: 'messages only', items: [user('hi'), assistant('hello')] },
    { name: 'calls each followed by their output', items: [user('go'), reasoning, call('a'), output('a'), customCall('b'), customOutput('b'), assistant('done')] },
    { name: 'parallel calls answered after both', items: [call('a'), call('b'), output('b'), output('a')] },
  ])('leaves $name unchanged', ({ items }) => {
    const snapshot = structuredClone(items);
    const result = normalizeHistory(items);
    expect(result).toEqual(snapshot);
    expect(result).not.toBe(items);
    expect(items).toEqual(snapshot);
  });

  it.each([
    {
      name: 'gives a call without output an aborted output right after it',
      items: [user('go'), call('a'), assistant('hm')],
      expected: [user('go'), call('a'), aborted('a'), assistant('hm')],
    },
    {
      name: 'gives a custom_tool_call without output a custom_tool_call_output',
      items: [customCall('p'), user('next')],
      expected: [customCall('p'), customAborted('p'), user('next')],
    },
    {
      name: 'answers only the unanswered one of several calls',
      items: [call('a'), call('b'), output('b')],
      expected: [call('a'), aborted('a'), call('b'), output('b')],
    },
    {
      name: 'drops an output whose call is not in the history',
      items: [user('go'), output('ghost'), assistant('ok')],
      expected: [user('go'), assistant('ok')],
    },
    {
      name: 'drops an output that comes before its call and gives the call an aborted output',
      items: [output('a', 'early'), call('a'), user('next')],
      expected: [call('a'), aborted('a'), user('next')],
    },
    {
      name: 'keeps only the first of duplicate outputs',
      items: [call('a'), output('a', 'first'), user('x'), output('a', 'second')],
      expected: [call('a'), output('a', 'first'), user('x')],
    },
    {
      name: 'keeps the output after the call when another comes before it',
      items: [output('a', 'early'), call('a'), output('a', 'late')],
      expected: [call('a'), output('a', 'late')],
    },
  ])('$name', ({ items, expected }) => {
    expect(normalizeHistory(items)).toEqual(expected);
  });

  it('returns a history that is already normal when applied again', () => {
    const once = normalizeHistory([output('x'), call('a'), customCall('b'), output('a'), output('a')]);
    expect(normalizeHistory(once)).toEqual(once);
  });
});

describe('callsWithoutOutput', () => {
  it.each([
    { name: 'no calls', items: [user('hi')], expected: [] },
    { name: 'every call answered', items: [call('a'), output('a'), customCall('b'), customOutput('b')], expected: [] },
    { name: 'unanswered calls, in call order', items: [call('a'), customCall('b'), call('c'), output('b')], expected: [call('a'), call('c')] },
    { name: 'an unanswered custom call', items: [customCall('b')], expected: [customCall('b')] },
  ])('finds $name', ({ items, expected }) => {
    expect(callsWithoutOutput(items)).toEqual(expected);
  });
});

describe('abortedOutputFor', () => {
  it.each([
    { name: 'a function call', item: call('a'), expected: aborted('a') },
    { name: 'a custom tool call', item: customCall('b'), expected: customAborted('b') },
  ])('builds the aborted output of $name', ({ item, expected }) => {
    expect(abortedOutputFor(item)).toEqual(expected);
  });

  it('uses the given text', () => {
    expect(abortedOutputFor(call('a'), 'interrupted')).toEqual(output('a', 'interrupted'));
  });

  it('rejects an item that is not a tool call', () => {
    expect(() => abortedOutputFor(user('x'))).toThrow(new TypeError('abortedOutputFor: message is not a tool call'));
  });
});
