import { OpenAPIObject, OperationObject, ReferenceObject, ResponseObject, SchemaObject } from '@nestjs/swagger';
import { PROBLEM_JSON, problemResponse, typicalProblem } from './problems';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** The reusable answer of any documented path to a method it does not serve. */
export const METHOD_NOT_ALLOWED = 'MethodNotAllowed';

/** What decorators cannot say, added to the document SwaggerModule built from them. */
export function finishDocument(document: OpenAPIObject): OpenAPIObject {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation) {
        closeRequestBodies(document, operation);
        setProblemInstances(operation, path);
      }
    }
  }
  document.components = {
    ...document.components,
    responses: { ...document.components?.responses, [METHOD_NOT_ALLOWED]: methodNotAllowed() },
  };
  return document;
}

/**
 * The global ValidationPipe refuses unknown fields (forbidNonWhitelisted), so every body schema is
 * closed. Only schemas with properties: a oneOf branch that only lists `required` names would
 * otherwise refuse every field.
 */
function closeRequestBodies(document: OpenAPIObject, operation: OperationObject): void {
  const body = operation.requestBody as { content?: Record<string, { schema?: SchemaObject | ReferenceObject }> };
  for (const { schema } of Object.values(body?.content ?? {})) {
    const resolved =
      schema && '$ref' in schema ? document.components?.schemas?.[schema.$ref.split('/').pop() as string] : schema;
    if (resolved && !('$ref' in resolved) && resolved.properties) {
      resolved.additionalProperties = false;
    }
  }
}

/** Each problem example names the operation's own path, as the server's answers do. */
function setProblemInstances(operation: OperationObject, path: string): void {
  for (const [status, response] of Object.entries(operation.responses as Record<string, ResponseObject>)) {
    const media = response.content?.[PROBLEM_JSON];
    if (media?.example) {
      // Copies, not edits: the response objects are the decorators' metadata, which operations may share.
      const example = { ...media.example, instance: path };
      operation.responses[status] = {
        ...response,
        content: { ...response.content, [PROBLEM_JSON]: { ...media, example } },
      };
    }
  }
}

function methodNotAllowed(): ResponseObject {
  const { description, headers, content } = problemResponse(405, typicalProblem(405), {
    Allow: {
      description: 'The methods the path serves',
      required: true,
      schema: { type: 'string' },
      example: 'POST',
    },
  });
  // The path the example's detail and Allow speak of.
  const example = { ...content[PROBLEM_JSON].example, instance: '/org/create' };
  return { description, headers, content: { [PROBLEM_JSON]: { ...content[PROBLEM_JSON], example } } };
}
