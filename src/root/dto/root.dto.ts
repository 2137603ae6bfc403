/** Where to go next; paths relative to the service's own address. New documents add a key here. */
export class RootLinksDto {
  /** Swagger UI: the interactive API documentation. @example "/docs" */
  docs: string;

  /** The OpenAPI 3 document, as JSON. @example "/docs-json" */
  openapi: string;

  /** ReDoc: the same document as a readable reference. @example "/redoc" */
  redoc: string;
}

export class RootDto {
  /** @example "Organization Management Service" */
  name: string;

  /** The running version of the service. @example "0.1.0" */
  version: string;

  links: RootLinksDto;
}
