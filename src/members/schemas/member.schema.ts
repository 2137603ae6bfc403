import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';
import { Role } from '../../admins/schemas/admin.schema';
import { defineTenantEntity } from '../../tenancy/tenant';
import { TENANT_FIELD } from '../../tenancy/tenant-stamp';

/** The roles inside an organization. */
export const MEMBER_ROLES = [Role.Admin, Role.Member] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

/** A member of one organization, kept in that organization's own storage with its credentials. */
@Schema({ versionKey: false, timestamps: { createdAt: 'created_at', updatedAt: 'updated_at' } })
export class Member {
  _id: Types.ObjectId;

  /** Stored normalized (see normalizeEmail); unique within the organization. */
  @Prop({ required: true })
  email: string;

  @Prop({ required: true })
  password_hash: string;

  @Prop({ required: true, enum: MEMBER_ROLES, type: String })
  role: MemberRole;

  /** Raised on every change of credentials or role; tokens carrying an older version are refused. */
  @Prop({ required: true, default: 0 })
  token_version: number;

  created_at: Date;
  updated_at: Date;
}

export const MemberSchema = SchemaFactory.createForClass(Member);
MemberSchema.index({ [TENANT_FIELD]: 1, email: 1 }, { unique: true });
MemberSchema.index({ [TENANT_FIELD]: 1, role: 1, created_at: 1 });
export const MemberEntity = defineTenantEntity('members', MemberSchema);
