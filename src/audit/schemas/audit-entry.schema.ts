import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';
import { defineTenantEntity } from '../../tenancy/tenant';
import { TENANT_FIELD } from '../../tenancy/tenant-stamp';

export enum AuditAction {
  OrganizationCreated = 'organization.created',
  OrganizationRenamed = 'organization.renamed',
  CredentialsChanged = 'organization.credentials_changed',
  MemberAdded = 'member.added',
  MemberChanged = 'member.changed',
  MemberRemoved = 'member.removed',
  PasswordChanged = 'password.changed',
  PasswordChangeFailed = 'password.change_failed',
  LoginSucceeded = 'login.succeeded',
  LoginFailed = 'login.failed',
  RefreshReuseDetected = 'refresh.reuse_detected',
}

/** One change in an organization, kept in the organization's own storage. */
@Schema({ versionKey: false })
export class AuditEntry {
  _id: Types.ObjectId;

  @Prop({ required: true, enum: AuditAction, type: String })
  action: AuditAction;

  /** Who did it (null when nobody could be told, as for a failed login). */
  @Prop({ type: String, default: null })
  actor_id: string | null;

  @Prop({ type: String, default: null })
  actor_role: string | null;

  /** What it was done to: a member's or the organization's id, or the email a login named. */
  @Prop({ type: String, default: null })
  target: string | null;

  /** What changed, where it says more than the action (the names of a rename, a member's new role). */
  @Prop({ type: Object, default: undefined })
  details?: Record<string, unknown>;

  @Prop({ required: true })
  at: Date;

  @Prop({ type: String, default: null })
  ip: string | null;

  @Prop({ type: String, default: null })
  request_id: string | null;
}

export const AuditEntrySchema = SchemaFactory.createForClass(AuditEntry);
AuditEntrySchema.index({ [TENANT_FIELD]: 1, at: -1 });
export const AuditEntity = defineTenantEntity('audit', AuditEntrySchema);
