import { Aggregate, Document, Model, MongooseQueryMiddleware, PipelineStage, Query, Schema, Types } from 'mongoose';

/**
 * Every tenant document carries the id of the organization that wrote it, and every operation
 * through a tenant model is restricted to that id on the server: a stale handle that reaches a
 * name another organization holds by now can neither see nor change that organization's documents.
 * Organization ids are never reused, so this holds whatever the timing.
 */
export const TENANT_FIELD = '_tenant';

const stamps = new WeakMap<object, Types.ObjectId>();

/** Binds a compiled tenant model to its organization: its operations are restricted to that id. */
export function bindTenant(model: Model<unknown>, tenantId: string): void {
  stamps.set(model, new Types.ObjectId(tenantId));
}

/** Adds the stamp and the restriction to a tenant entity's schema, once, before any model is compiled. */
export function stampTenantDocuments(schema: Schema): void {
  schema.add({ [TENANT_FIELD]: { type: Schema.Types.ObjectId, select: false } });
  schema.pre(RESTRICTED_QUERIES, { document: false, query: true }, function (this: Query<unknown, unknown>) {
    restrictQuery(this, stampOf(this.model));
  });
  schema.pre('estimatedDocumentCount', function () {
    throw new Error('estimatedDocumentCount counts every organization; use countDocuments on a tenant model');
  });
  schema.pre('save', function (this: Document) {
    const stamp = stampOf(this.constructor);
    if (this.isModified(TENANT_FIELD) && !this.isNew) {
      throw new Error(STAMP_IS_FIXED);
    }
    if (this.isNew) {
      this.set(TENANT_FIELD, stamp);
    } else {
      this.$where = { ...this.$where, [TENANT_FIELD]: stamp };
    }
  });
  schema.pre('insertMany', function (this: Model<unknown>, documents: unknown) {
    const stamp = stampOf(this);
    for (const document of [documents].flat() as Record<string, unknown>[]) {
      stampDocument(document, stamp);
    }
  });
  schema.pre('bulkWrite', function (this: Model<unknown>, operations: BulkOperation[]) {
    const stamp = stampOf(this);
    operations.forEach((operation) => restrictBulkOperation(operation, stamp));
  });
  schema.pre('aggregate', function (this: Aggregate<unknown>) {
    restrictPipeline(this.pipeline(), stampOf(this.model()));
  });
}

const RESTRICTED_QUERIES: MongooseQueryMiddleware[] = [
  'countDocuments',
  'deleteMany',
  'deleteOne',
  'distinct',
  'find',
  'findOne',
  'findOneAndDelete',
  'findOneAndReplace',
  'findOneAndUpdate',
  'replaceOne',
  'updateMany',
  'updateOne',
];
const REPLACEMENTS = new Set(['findOneAndReplace', 'replaceOne']);
/** Stages that reach beyond the collection: a pipeline could reach any organization through them. */
const FOREIGN_STAGES = ['$lookup', '$graphLookup', '$unionWith', '$out', '$merge', '$documents'];

type Update = Record<string, unknown> | Record<string, unknown>[];
const STAMP_IS_FIXED = 'A tenant document stays with its organization: its stamp cannot change';
type BulkOperation = Record<string, { filter?: object; update?: Update; replacement?: object; document?: object }>;

function stampOf(model: unknown): Types.ObjectId {
  const stamp = typeof model === 'function' ? stamps.get(model) : undefined;
  if (!stamp) {
    throw new Error('Tenant entities are reached only through TenantConnectionService.model');
  }
  return stamp;
}

function restrictQuery(query: Query<unknown, unknown>, stamp: Types.ObjectId): void {
  query.where(TENANT_FIELD).equals(stamp);
  const update = query.getUpdate() as Update | null;
  if (update) {
    query.setUpdate(
      REPLACEMENTS.has((query as { op?: string }).op ?? '')
        ? { ...update, [TENANT_FIELD]: stamp }
        : restrictUpdate(update, stamp),
    );
  }
}

/**
 * An update may not move a document to another organization. (An upsert inserts it stamped: the
 * server copies the filter's equality on the stamp into the new document.)
 */
function restrictUpdate(update: Update, stamp: Types.ObjectId): Update {
  if (Array.isArray(update)) {
    return [...update, { $set: { [TENANT_FIELD]: stamp } }];
  }
  const renames = Object.values((update.$rename as Record<string, unknown> | undefined) ?? {});
  if (renames.includes(TENANT_FIELD)) {
    throw new Error(STAMP_IS_FIXED);
  }
  const restricted = withoutStamp(update);
  for (const [key, value] of Object.entries(restricted)) {
    if (key.startsWith('$') && value !== null && typeof value === 'object') {
      restricted[key] = withoutStamp(value as Record<string, unknown>);
    }
  }
  return restricted;
}

function withoutStamp(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([field]) => field !== TENANT_FIELD));
}

function stampDocument(document: Record<string, unknown> | Document, stamp: Types.ObjectId): void {
  if (document instanceof Document) {
    document.set(TENANT_FIELD, stamp);
  } else {
    document[TENANT_FIELD] = stamp;
  }
}

function restrictBulkOperation(operation: BulkOperation, stamp: Types.ObjectId): void {
  const entries = Object.entries(operation);
  if (entries.length !== 1) {
    throw new Error('A bulkWrite operation on a tenant model names exactly one kind');
  }
  const [[kind, body]] = entries;
  if (kind === 'insertOne' && body?.document) {
    stampDocument(body.document as Record<string, unknown>, stamp);
    return;
  }
  if (!body || !['updateOne', 'updateMany', 'replaceOne', 'deleteOne', 'deleteMany'].includes(kind)) {
    throw new Error(`Unsupported bulkWrite operation on a tenant model: ${kind}`);
  }
  body.filter = { ...body.filter, [TENANT_FIELD]: stamp };
  if (body.update) {
    body.update = restrictUpdate(body.update, stamp);
  }
  if (body.replacement) {
    body.replacement = { ...body.replacement, [TENANT_FIELD]: stamp };
  }
}

function restrictPipeline(pipeline: PipelineStage[], stamp: Types.ObjectId): void {
  if (FOREIGN_STAGES.some((stage) => containsStage(pipeline, stage))) {
    throw new Error(`A tenant pipeline may not use ${FOREIGN_STAGES.join(', ')}`);
  }
  const [first] = pipeline;
  if (first && '$geoNear' in first) {
    first.$geoNear.query = { ...first.$geoNear.query, [TENANT_FIELD]: stamp };
  } else {
    pipeline.unshift({ $match: { [TENANT_FIELD]: stamp } });
  }
}

/** Whether the stage appears anywhere, $facet sub-pipelines included. */
function containsStage(value: unknown, stage: string): boolean {
  if (Array.isArray(value)) {
    return value.some((item) => containsStage(item, stage));
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).some(([key, nested]) => key === stage || containsStage(nested, stage));
  }
  return false;
}
