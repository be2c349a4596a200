// Bundles the compiled workflow code once at build time (dist/workflow-bundle.js), so
// `unroll exec` and `unroll worker` start without running webpack on every launch.
const path = require('node:path');
const { writeFile } = require('node:fs/promises');
const { bundleWorkflowCode } = require('@temporalio/worker');

async function main() {
  const root = path.resolve(__dirname, '..');
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(root, 'dist', 'src', 'workflows', 'index.js'),
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
  });
  const out = path.join(root, 'dist', 'workflow-bundle.js');
  await writeFile(out, code);
  console.log(`workflow bundle: ${path.relative(process.cwd(), out)} (${Math.round(code.length / 1024)} KiB)`);
}

main().catch((err) => {
  console.error(`bundling workflows failed: ${err.stack ?? err}`);
  process.exit(1);
});
