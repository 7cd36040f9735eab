// The web console's static files (console/ at the package root: one HTML
// page, one script, one stylesheet, hand-written, no build step). They are
// read once when the HTTP API is created and served from memory.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { HttpResponse } from '../codec/index.js';

/** src/api/http/console (or dist/api/http/console) → the package root's console/ folder. */
export const CONSOLE_ASSETS_DIR = fileURLToPath(new URL('../../../../console/', import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

// Only this node's own files and API: no CDN, no inline script, no framing.
const HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-cache',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

export type ConsoleAssets = ReadonlyMap<string, { contentType: string; body: Uint8Array }>;

export function loadConsoleAssets(dir: string = CONSOLE_ASSETS_DIR): ConsoleAssets {
  const assets = new Map<string, { contentType: string; body: Uint8Array }>();
  for (const [name, contentType] of Object.entries(CONTENT_TYPES)) assets.set(name, { contentType, body: readFileSync(new URL(name, `file://${dir.endsWith('/') ? dir : `${dir}/`}`)) });
  assert.equal(assets.size, Object.keys(CONTENT_TYPES).length, 'every console asset is loaded');
  return assets;
}

/** `name` is "index.html" for GET /console; undefined when there is no such asset. */
export function renderAsset(assets: ConsoleAssets, name: string): HttpResponse | undefined {
  const asset = assets.get(name);
  if (asset === undefined) return undefined;
  return { status: 200, headers: { 'Content-Type': asset.contentType, ...HEADERS }, body: asset.body };
}
