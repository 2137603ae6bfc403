import { ApiSchema, ApiSchemaOptions, SchemaObject } from '@nestjs/swagger';

/**
 * Schema-level keywords (oneOf, minProperties, ...) for a DTO's component schema, for rules that
 * span fields. @ApiSchema copies every option it is given into the schema, though its type names
 * only `name` and `description` (test/docs.e2e-spec.ts would notice if it stopped).
 */
export function ApiSchemaRules(rules: SchemaObject): ClassDecorator {
  return ApiSchema(rules as ApiSchemaOptions);
}
