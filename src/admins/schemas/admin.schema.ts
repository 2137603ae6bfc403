import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';

/** Who a token speaks for: the platform's superadmin, or an organization's admin or member. */
export enum Role {
  Superadmin = 'superadmin',
  Admin = 'admin',
  Member = 'member',
}

@Schema({
  collection: 'admins',
  versionKey: false,
  timestamps: { createdAt: 'created_at', updatedAt: 'updated_at' },
})
export class Admin {
  _id: Types.ObjectId;

  /** Stored lower-cased, so the unique index is case-insensitive. */
  @Prop({ required: true, unique: true, lowercase: true, trim: true })
  email: string;

  @Prop({ required: true })
  password_hash: string;

  @Prop({ required: true, enum: [Role.Admin, Role.Superadmin], type: String })
  role: Role;

  /** Null for a superadmin. */
  @Prop({ type: Types.ObjectId, default: null, index: true })
  organization_id: Types.ObjectId | null;

  /** Raised on every credential change; tokens carrying an older version are refused. */
  @Prop({ required: true, default: 0 })
  token_version: number;

  created_at: Date;
  updated_at: Date;
}

export const AdminSchema = SchemaFactory.createForClass(Admin);
/** Recovery looks for admins left without an organization among the recently created ones. */
AdminSchema.index({ created_at: 1 });
