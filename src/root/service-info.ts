import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The service's name, as the root document and the OpenAPI document give it. */
export const SERVICE_NAME = 'Organization Management Service';

/** The running version: package.json's, read from the project root (two levels up, from src/ or dist/). */
export const SERVICE_VERSION = packageVersion(join(__dirname, '..', '..', 'package.json'));

/** Where Swagger UI and the OpenAPI document are served, without the leading slash. */
export const DOCS_PATH = 'docs';
export const OPENAPI_JSON_PATH = 'docs-json';
/** Where ReDoc is served (src/root/redoc.ts), without the leading slash. */
export const REDOC_PATH = 'redoc';

function packageVersion(file: string): string {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
