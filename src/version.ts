import { readFileSync } from 'node:fs';

/** package.json sits one level above both src/ and dist/. */
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export const VERSION: string = pkg.version;

/** The commit the image was built from, when the build said (Docker build arg); else `unknown`. */
export const REVISION: string = process.env.MISTRAL_EXPORTER_REVISION?.trim() || 'unknown';

export const USER_AGENT = `mistral-admin-exporter/${VERSION}`;
