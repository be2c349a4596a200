import { sandboxPolicyFor, type SandboxPolicy } from '../../src/shared/sandbox-policy';
import { sandboxArgv } from '../../src/tools/sandbox';

describe('sandboxPolicyFor', () => {
  it.each([
    { settings: { sandboxMode: 'danger-full-access', cwd: '/w' }, policy: null },
    { settings: { sandboxMode: 'danger-full-access', cwd: '/w', networkAccess: true }, policy: null },
    { settings: { sandboxMode: 'read-only', cwd: '/w' }, policy: { mode: 'read-only', workspace: '/w', writableRoots: [], networkAccess: false } },
    {
      settings: { sandboxMode: 'workspace-write', cwd: '/w', networkAccess: false },
      policy: { mode: 'workspace-write', workspace: '/w', writableRoots: [], networkAccess: false },
    },
    {
      settings: { sandboxMode: 'workspace-write', cwd: '/w', networkAccess: true },
      policy: { mode: 'workspace-write', workspace: '/w', writableRoots: [], networkAccess: true },
    },
  ] as const)('maps $settings to $policy', ({ settings, policy }) => {
    expect(sandboxPolicyFor(settings)).toEqual(policy);
  });
});

describe('sandboxArgv', () => {
  const base = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp'];

  it('mounts everything read-only for read-only, keeps the workspace visible and cuts the network', () => {
    const policy: SandboxPolicy = { mode: 'read-only', workspace: '/w', writableRoots: [], networkAccess: false };
    expect(sandboxArgv(['cat', 'a b'], policy, { bwrapPath: 'bwrap', cwd: '/w/sub', tmpdir: '/tmp' })).toEqual([
      'bwrap', ...base,
      '--ro-bind', '/w', '/w',
      '--unshare-pid', '--unshare-net', '--cap-drop', 'ALL', '--die-with-parent', '--chdir', '/w/sub',
      '--', 'cat', 'a b',
    ]);
  });

  it('binds the temp dir, writable roots and workspace read-write for workspace-write, then every .git read-only', () => {
    const policy: SandboxPolicy = { mode: 'workspace-write', workspace: '/w', writableRoots: ['/cache', '/w'], networkAccess: false };
    expect(sandboxArgv(['bash', '-c', 'make'], policy, { bwrapPath: '/opt/bwrap', cwd: '/w', tmpdir: '/var/tmp/t' })).toEqual([
      '/opt/bwrap', ...base,
      '--bind', '/var/tmp/t', '/var/tmp/t',
      '--bind-try', '/cache', '/cache',
      '--bind-try', '/w', '/w',
      '--bind', '/w', '/w',
      '--ro-bind-try', '/w/.git', '/w/.git',
      '--ro-bind-try', '/cache/.git', '/cache/.git',
      '--unshare-pid', '--unshare-net', '--cap-drop', 'ALL', '--die-with-parent', '--chdir', '/w',
      '--', 'bash', '-c', 'make',
    ]);
  });

  it('keeps the network namespace when the policy allows the network', () => {
    const policy: SandboxPolicy = { mode: 'workspace-write', workspace: '/w', writableRoots: [], networkAccess: true };
    expect(sandboxArgv(['curl', 'example.com'], policy, { bwrapPath: 'bwrap', cwd: '/w', tmpdir: '/tmp' })).toEqual([
      'bwrap', ...base,
      '--bind', '/tmp', '/tmp',
      '--bind', '/w', '/w',
      '--ro-bind-try', '/w/.git', '/w/.git',
      '--unshare-pid', '--cap-drop', 'ALL', '--die-with-parent', '--chdir', '/w',
      '--', 'curl', 'example.com',
    ]);
  });
});
