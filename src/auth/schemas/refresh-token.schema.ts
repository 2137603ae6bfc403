import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Role } from '../../admins/schemas/admin.schema';

/**
 * A refresh token, stored as its SHA-256 only. Each works once: using it marks it used and issues
 * the next of its family; a used one presented again revokes the family.
 */
@Schema({ collection: 'refresh_tokens', versionKey: false })
export class RefreshToken {
  /** SHA-256 of the token, hex. */
  @Prop({ type: String, required: true })
  _id: string;

  /** Every token rotated from one login. */
  @Prop({ required: true, index: true })
  family: string;

  /** The claims of the access tokens it gives, checked again against the stored principal on use. */
  @Prop({ required: true })
  sub: string;

  @Prop({ type: String, default: null })
  org: string | null;

  @Prop({ required: true, enum: Role, type: String })
  role: Role;

  @Prop({ required: true })
  ver: number;

  @Prop({ default: false })
  mem: boolean;

  @Prop({ type: Date, default: null })
  used_at: Date | null;

  /** The server removes it after this time (a TTL index); it is refused from then on either way. */
  @Prop({ required: true, expires: 0 })
  expires_at: Date;
}

export const RefreshTokenSchema = SchemaFactory.createForClass(RefreshToken);
