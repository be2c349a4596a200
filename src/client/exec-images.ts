/**
 * `exec -i/--image FILE` (repeatable, or comma-separated, as in Codex 0.171): the images
 * go with the prompt, in the first user message of the turn, as Codex sends them: for
 * each image in order `<image name=[Image #n] path="FILE">`, the image as `input_image`
 * content, `</image>`, then the prompt's text. The bytes go to the store once, by hash
 * (as view_image's do, src/tools/view-image.ts); the stored message names them, and the
 * request turns them into `data:` URLs (src/activities/model-client.ts). Temporal history
 * carries only the message's hash.
 *
 * Bad input is refused before anything is contacted, naming the file and what is wrong
 * (exit 2): a missing or unreadable file, one that is no PNG, JPEG, GIF or WebP, or one
 * over 20 MiB. (Codex 0.171 instead sends the model a note that the image could not be
 * read, or the over-size image, and carries on: the user would not learn the prompt went
 * without it.)
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ContentPart, MessageItem } from '../items/schemas';
import type { TranscriptStore } from '../store';
import { detailFor, imageMimeType, MAX_IMAGE_BYTES } from '../tools/view-image';
import { ExecUsageError } from './exec-input';

/** An `-i` file, read and checked. */
export interface ExecImage {
  /** The path as given on the command line (Codex puts it in the image's tag). */
  readonly given: string;
  readonly data: Buffer;
  readonly mime: string;
}

/** An `-i` file that cannot be sent: missing, unreadable, no image, or too large (exit 2). */
export class ExecImageError extends ExecUsageError {
  override readonly name: string = 'ExecImageError';
  constructor(readonly file: string, readonly problem: string) {
    super(`-i/--image ${file}: ${problem}`);
  }
}

/** The `-i` values as Codex takes them: each may list several files, separated by commas. */
export function imagePaths(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).filter((p) => p !== '');
}

/** Reads and checks the `-i` files (paths from `cwd`); throws {@link ExecImageError}. */
export async function readExecImages(values: readonly string[] | undefined, cwd: string): Promise<ExecImage[]> {
  const images: ExecImage[] = [];
  for (const given of imagePaths(values)) {
    const file = path.resolve(cwd, given);
    let data: Buffer;
    try {
      const info = await fs.stat(file);
      if (!info.isFile()) throw new ExecImageError(given, 'not a file');
      if (info.size > MAX_IMAGE_BYTES) throw new ExecImageError(given, `${info.size} bytes, over the limit for one image (${mib(MAX_IMAGE_BYTES)}, ${MAX_IMAGE_BYTES} bytes)`);
      data = await fs.readFile(file);
    } catch (err) {
      if (err instanceof ExecImageError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new ExecImageError(given, code === 'ENOENT' ? 'no such file' : `cannot read it (${(err as Error).message})`);
    }
    const mime = imageMimeType(data);
    if (mime === null) throw new ExecImageError(given, 'not an image the model can take (PNG, JPEG, GIF or WebP)');
    images.push({ given, data, mime });
  }
  return images;
}

/**
 * Stores the images and the user message that carries them and the prompt; returns the
 * message's hash (the submit update names it) or undefined when there are no images.
 */
export async function storeImageMessage(store: TranscriptStore, text: string, images: readonly ExecImage[], model: string): Promise<string | undefined> {
  if (images.length === 0) return undefined;
  const content: ContentPart[] = [];
  for (const [i, image] of images.entries()) {
    const blob = await store.putBlob(image.data);
    content.push(
      { type: 'input_text', text: `<image name=[Image #${i + 1}] path="${image.given}">` },
      { type: 'input_image', image_blob: blob, mime_type: image.mime, detail: detailFor(model) },
      { type: 'input_text', text: '</image>' },
    );
  }
  content.push({ type: 'input_text', text });
  const message: MessageItem = { type: 'message', role: 'user', content };
  return store.putItem(message);
}

/** `[image a.png] [image b.png] ` before the prompt in the human view. */
export function imageLabels(images: readonly ExecImage[]): string {
  return images.map((image) => `[image ${image.given}] `).join('');
}

function mib(bytes: number): string {
  const value = bytes / (1024 * 1024);
  return `${Number.isInteger(value) ? value : value.toFixed(1)} MiB`;
}
