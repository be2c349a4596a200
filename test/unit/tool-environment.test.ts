/**
 * The environment tool processes get from the worker's: the shell environment policy's
 * steps (inherit, default excludes and secret names, exclude, set, include-only) as a
 * table over one worker environment.
 */
import { DEFAULT_SHELL_ENVIRONMENT_POLICY, ShellEnvironmentPolicy, toolEnvironment } from '../../src/tools/environment';

/** A worker environment with the usual mix: core variables, credentials, and the rest. */
const WORKER_ENV: Record<string, string | undefined> = {
  HOME: '/home/dev',
  PATH: '/usr/local/bin:/usr/bin:/bin',
  USER: 'dev',
  SHELL: '/bin/bash',
  LANG: 'C.UTF-8',
  TMPDIR: '/tmp',
  OPENAI_API_KEY: 'sk-openai',
  github_token: 'ghp-lowercase',
  AWS_SECRET_ACCESS_KEY: 'aws-secret',
  MyApiKey: 'mixed-case',
  ACME_CREDENTIAL: 'acme-key',
  NPM_CONFIG_REGISTRY: 'https://registry.example',
  CARGO_HOME: '/home/dev/.cargo',
  EDITOR: 'vim',
  UNSET_VARIABLE: undefined,
};

const policy = (fields: Partial<ShellEnvironmentPolicy>): ShellEnvironmentPolicy => ShellEnvironmentPolicy.parse(fields);

describe('toolEnvironment', () => {
  test.each<[string, ShellEnvironmentPolicy, readonly string[], Record<string, string>]>([
    [
      'the default policy keeps everything but names with KEY, SECRET or TOKEN (any case) and the named secrets',
      DEFAULT_SHELL_ENVIRONMENT_POLICY,
      ['ACME_CREDENTIAL'],
      {
        HOME: '/home/dev', PATH: '/usr/local/bin:/usr/bin:/bin', USER: 'dev', SHELL: '/bin/bash', LANG: 'C.UTF-8', TMPDIR: '/tmp',
        NPM_CONFIG_REGISTRY: 'https://registry.example', CARGO_HOME: '/home/dev/.cargo', EDITOR: 'vim',
      },
    ],
    [
      'inherit core keeps only the core variables',
      policy({ inherit: 'core' }),
      [],
      { HOME: '/home/dev', PATH: '/usr/local/bin:/usr/bin:/bin', USER: 'dev', SHELL: '/bin/bash', LANG: 'C.UTF-8', TMPDIR: '/tmp' },
    ],
    ['inherit none keeps nothing but what set adds', policy({ inherit: 'none', set: { PATH: '/opt/bin', CI: '1' } }), [], { PATH: '/opt/bin', CI: '1' }],
    [
      'ignoreDefaultExcludes keeps the credentials, named secrets included',
      policy({ ignoreDefaultExcludes: true, includeOnly: ['*key*', '*token*', 'ACME_*'] }),
      ['ACME_CREDENTIAL'],
      { OPENAI_API_KEY: 'sk-openai', github_token: 'ghp-lowercase', AWS_SECRET_ACCESS_KEY: 'aws-secret', MyApiKey: 'mixed-case', ACME_CREDENTIAL: 'acme-key' },
    ],
    [
      'exclude patterns drop matching names, case-insensitively, with * and ?',
      policy({ inherit: 'core', exclude: ['lan?', 'tmp*'] }),
      [],
      { HOME: '/home/dev', PATH: '/usr/local/bin:/usr/bin:/bin', USER: 'dev', SHELL: '/bin/bash' },
    ],
    [
      'includeOnly keeps only matching names, after set',
      policy({ includeOnly: ['PATH', 'npm_*'], set: { CI: '1', NPM_TOKEN_FILE: '/run/npm' } }),
      [],
      { PATH: '/usr/local/bin:/usr/bin:/bin', NPM_CONFIG_REGISTRY: 'https://registry.example', NPM_TOKEN_FILE: '/run/npm' },
    ],
    [
      'set overrides an inherited value and is not dropped by the excludes',
      policy({ inherit: 'core', exclude: ['PATH'], set: { PATH: '/sandbox/bin', SERVICE_TOKEN: 'fake-for-tests' } }),
      [],
      { HOME: '/home/dev', USER: 'dev', SHELL: '/bin/bash', LANG: 'C.UTF-8', TMPDIR: '/tmp', PATH: '/sandbox/bin', SERVICE_TOKEN: 'fake-for-tests' },
    ],
    [
      'pattern characters other than * and ? are literal',
      policy({ inherit: 'core', includeOnly: ['P.TH', 'HOME'] }),
      [],
      { HOME: '/home/dev' },
    ],
  ])('%s', (_case, p, secretNames, expected) => {
    expect(toolEnvironment(WORKER_ENV, p, secretNames)).toEqual(expected);
  });

  test.each<[string, unknown, RegExp]>([
    ['an unknown inherit mode', { inherit: 'some' }, /inherit/],
    ['an empty pattern', { exclude: [''] }, /exclude/],
    ['a pattern with "="', { includeOnly: ['A=B'] }, /includeOnly/],
    ['a set name that is not a variable name', { set: { 'NOT-A-NAME': 'x' } }, /set/],
    ['a set value with a NUL character', { set: { A: 'x\0y' } }, /set/],
    ['an unknown field', { inherits: 'all' }, /inherits/],
  ])('the policy schema rejects %s', (_case, input, field) => {
    const parsed = ShellEnvironmentPolicy.safeParse(input);
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toMatch(field);
  });
});
