import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';
import { TenantState } from '../tenant';

export enum OperationKind {
  Create = 'create',
  Rename = 'rename',
  Delete = 'delete',
}

/** A name the organization gave up (by a rename or its deletion), reserved until `until`. */
@Schema({ _id: false, versionKey: false })
export class VacatedSlug {
  @Prop({ required: true })
  slug: string;

  /** The entities recorded when the name was given up: where late writes may have landed. */
  @Prop({ type: [String], default: [] })
  entities: string[];

  /** Indexed: recovery looks for due ones every quarter reservation. */
  @Prop({ required: true, index: true })
  until: Date;
}

const VacatedSlugSchema = SchemaFactory.createForClass(VacatedSlug);

/** The admin credentials a rename also changes, so that recovery applies them if the request cannot. */
@Schema({ _id: false, versionKey: false })
export class PendingCredentials {
  @Prop()
  email?: string;

  @Prop()
  password_hash?: string;

  /** The admin's token version they were decided on: they apply only while it holds. */
  @Prop({ required: true })
  token_version: number;
}

const PendingCredentialsSchema = SchemaFactory.createForClass(PendingCredentials);

/** A multi-step change in progress: enough to finish or undo it after a crash. */
@Schema({ _id: false, versionKey: false })
export class PendingOperation {
  /**
   * Changes whenever another instance takes the operation over. Every step first checks it, so an
   * instance that stalled and lost its lease stops instead of acting on storage that is no longer its.
   */
  @Prop({ required: true })
  id: string;

  @Prop({ required: true, enum: OperationKind, type: String })
  kind: OperationKind;

  /** Until then the instance that started it is presumed alive; afterwards anyone may take it over. */
  @Prop({ required: true })
  lease_until: Date;

  @Prop()
  target_name?: string;

  @Prop()
  target_slug?: string;

  /** A rename has emptied its target storage: a resumed rename must not empty it again. */
  @Prop()
  target_emptied?: boolean;

  @Prop({ type: PendingCredentialsSchema })
  credentials?: PendingCredentials;
}

const PendingOperationSchema = SchemaFactory.createForClass(PendingOperation);

@Schema({
  collection: 'organizations',
  versionKey: false,
  timestamps: { createdAt: 'created_at', updatedAt: 'updated_at' },
})
export class Organization {
  _id: Types.ObjectId;

  @Prop({ required: true })
  organization_name: string;

  @Prop({ required: true, unique: true })
  slug: string;

  /**
   * The slug, plus the target slug while a rename runs, plus the names it gave up that are still
   * reserved. Its unique index makes a name taken by a rename in flight, or just vacated, unavailable
   * to everyone else, with no separate lock.
   */
  @Prop({ type: [String], required: true, unique: true })
  claimed_slugs: string[];

  @Prop({ type: Types.ObjectId, required: true })
  admin_id: Types.ObjectId;

  @Prop({ required: true, enum: TenantState, type: String, index: true })
  state: TenantState;

  @Prop({ type: PendingOperationSchema })
  operation?: PendingOperation;

  /** Entity collections the tenant has written, so that rename and delete know them all. */
  @Prop({ type: [String], default: [] })
  entities: string[];

  /** Raised whenever the storage moves or goes: a request's handle of an older generation is stale. */
  @Prop({ required: true, default: 0 })
  storage_generation: number;

  /** Names given up and still reserved; late writes under them are carried over or dropped at `until`. */
  @Prop({ type: [VacatedSlugSchema], default: [] })
  vacated_slugs: VacatedSlug[];

  /**
   * All its documents carry its stamp (see tenant-stamp.ts). Organizations created before stamps
   * existed get theirs from recovery, once.
   */
  @Prop()
  documents_stamped?: boolean;

  /** While an instance frees the due reserved names: until then, no other does. */
  @Prop()
  vacancy_lease_until?: Date;

  @Prop({ default: true })
  is_active: boolean;

  created_at: Date;
  updated_at: Date;
}

export const OrganizationSchema = SchemaFactory.createForClass(Organization);
