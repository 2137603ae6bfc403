import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomSuffix } from './random';

export interface ApiResponse<T = any> {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: T;
}

export interface RequestOptions {
  token?: string;
  json?: unknown;
  /** Sent verbatim, for malformed and oversize bodies. */
  raw?: string;
  form?: Record<string, string>;
  headers?: Record<string, string>;
  /** The client's address as the server sees it; 127.0.0.1 when not given. */
  remoteAddress?: string;
}

export interface Organization {
  name: string;
  email: string;
  password: string;
  id: string;
  adminId: string;
  token: string;
}

export const PASSWORD = 'SecurePassword123!';

/** Talks to the app over HTTP through Fastify's injector: the whole request pipeline, no socket. */
export class Api {
  /** Takes the app lazily, so that an Api can be made before the app has started. */
  constructor(private readonly app: () => NestFastifyApplication) {}

  async request<T = any>(method: string, url: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    let payload: string | undefined = options.raw;
    if (options.json !== undefined) {
      headers['content-type'] ??= 'application/json';
      payload = JSON.stringify(options.json);
    }
    if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = new URLSearchParams(options.form).toString();
    }
    if (options.token) {
      headers.authorization = `Bearer ${options.token}`;
    }
    const response = await this.app().inject({
      method: method as 'GET',
      url,
      headers,
      payload,
      remoteAddress: options.remoteAddress,
    });
    const isJson = /json/.test(String(response.headers['content-type'] ?? ''));
    return {
      status: response.statusCode,
      headers: response.headers,
      body: (isJson ? response.json() : response.body) as T,
    };
  }

  get = <T = any>(url: string, options?: RequestOptions) => this.request<T>('GET', url, options);
  post = <T = any>(url: string, options?: RequestOptions) => this.request<T>('POST', url, options);
  put = <T = any>(url: string, options?: RequestOptions) => this.request<T>('PUT', url, options);
  delete = <T = any>(url: string, options?: RequestOptions) => this.request<T>('DELETE', url, options);

  async login(email: string, password = PASSWORD): Promise<string> {
    const response = await this.post('/admin/login', { json: { email, password } });
    expect(response.status).toBe(200);
    return response.body.access_token;
  }

  createOrganizationRequest(name: string, email = `admin-${randomSuffix()}@example.com`): Promise<ApiResponse> {
    return this.post('/org/create', { json: { organization_name: name, email, password: PASSWORD } });
  }

  /** Creates an organization with a unique name and logs its admin in. */
  async createOrganization(prefix = 'Org'): Promise<Organization> {
    const suffix = randomSuffix();
    const name = `${prefix} ${suffix}`;
    const email = `admin-${suffix}@example.com`;
    const response = await this.createOrganizationRequest(name, email);
    expect(response.status).toBe(201);
    const token = await this.login(email);
    return {
      name,
      email,
      password: PASSWORD,
      id: response.body.data.organization_id,
      adminId: response.body.data.admin_id,
      token,
    };
  }
}

export function query(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

/** Every error must be problem+json with the documented shape. */
export function expectProblem(response: ApiResponse, status: number): void {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({
    type: 'about:blank',
    status,
    title: expect.any(String),
    detail: expect.any(String),
  });
}
