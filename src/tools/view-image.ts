/**
 * The `view_image` tool, as Codex 0.171 offers it: the model names a local image file and
 * gets the image itself as its call's output (`input_image` content), to look at a
 * screenshot, a chart or a rendered page. The image's bytes go to the store once, by hash
 * (`ctx.putBlob`); the stored output item holds only that hash, and each request turns it
 * into a `data:` URL (src/activities/model-client.ts). Texts and spec are Codex's.
 *
 * Read-only: no approval, no checkpoint, safe in parallel and to repeat.
 */
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { z } from 'zod';
import { usesFreeformApplyPatch } from './apply-patch/freeform';
import { defineTool } from './contract';
import { genericToolDisplay } from './display';
import { functionSpec } from './specs';
import type { ToolResult } from './types';

const DESCRIPTION = 'View a local image file from the filesystem when visual inspection is needed. Use this for images already available on disk.';

/** Arguments of `view_image`. */
export const ViewImageArgs = z.strictObject({
  path: z.string().describe('Local filesystem path to an image file.'),
});
export type ViewImageArgs = z.infer<typeof ViewImageArgs>;

/** The largest image sent: 20 MiB (the Responses API's limit for one image). */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;

/** The image formats the API takes, by their first bytes. */
const FORMATS: Array<{ mime: string; magic: (b: Buffer) => boolean }> = [
  { mime: 'image/png', magic: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  { mime: 'image/jpeg', magic: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { mime: 'image/gif', magic: (b) => b.subarray(0, 6).toString('latin1') === 'GIF87a' || b.subarray(0, 6).toString('latin1') === 'GIF89a' },
  { mime: 'image/webp', magic: (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP' },
];

/** The image's type from its content, or null when it is none the API takes. */
export function imageMimeType(data: Buffer): string | null {
  return FORMATS.find((f) => f.magic(data))?.mime ?? null;
}

/** Codex asks for the original resolution for the models that support it (the same table as the freeform apply_patch). */
export function detailFor(model: string | undefined): 'original' | 'high' {
  return model !== undefined && usesFreeformApplyPatch(model) ? 'original' : 'high';
}

export const viewImageTool = defineTool<ViewImageArgs>({
  name: 'view_image',
  spec: () => functionSpec('view_image', DESCRIPTION, ViewImageArgs),
  parameters: ViewImageArgs,
  parallelSafe: true,
  sideEffects: 'none',
  describe: (args) => ({ summary: `view_image: ${args.path}`, approval: 'safe', changesFiles: false }),
  display: genericToolDisplay,
  async run(args, ctx, options): Promise<ToolResult> {
    const file = path.resolve(ctx.cwd, args.path);
    let data: Buffer;
    try {
      const info = await stat(file);
      if (!info.isFile()) return failed(`unable to locate image at \`${file}\`: not a file`);
      if (info.size > MAX_IMAGE_BYTES) return failed(`unable to process image: ${info.size} bytes is over the ${MAX_IMAGE_BYTES}-byte limit for one image`);
      data = await readFile(file);
    } catch (err) {
      return failed(`unable to locate image at \`${file}\`: ${describeFsError(err)}`);
    }
    const mime = imageMimeType(data);
    if (mime === null) return failed('unable to process image: invalid or unsupported image data');
    if (!ctx.putBlob) throw new TypeError('view_image needs ctx.putBlob (the tool activity gives it) to store the image');
    const blob = await ctx.putBlob(data);
    return {
      output: `image ${args.path} (${mime}, ${data.length} bytes)`,
      success: true,
      metadata: { path: args.path, mime, bytes: data.length, blob },
      content: [{ type: 'input_image', image_blob: blob, mime_type: mime, detail: detailFor(options?.model) }],
    };
  },
});

function failed(message: string): ToolResult {
  return { output: message, success: false, metadata: { error: message } };
}

/** As Codex words it for a missing file; the system's message otherwise. */
function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'No such file or directory (os error 2)';
  return (err as Error).message;
}
