import { AppProcess } from '../../tools/app-process';
import { ApiResponse } from './api';

export interface CallOptions {
  token?: string;
  json?: unknown;
  timeoutMs?: number;
}

/** One request to an app process over loopback HTTP. */
export async function call(
  app: AppProcess,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
  }
  if (options.token) {
    headers.authorization = `Bearer ${options.token}`;
  }
  const response = await fetch(`${app.url}${path}`, {
    method,
    headers,
    body: options.json === undefined ? undefined : JSON.stringify(options.json),
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  const text = await response.text();
  expect(response.status).not.toBe(500);
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers.entries()),
    body: /json/.test(response.headers.get('content-type') ?? '') ? JSON.parse(text) : text,
  };
}
