import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * A revoked family of refresh tokens. Deleting the family's tokens is not enough: a refresh that
 * used one of them just before the revocation inserts its new token just after. So the family is
 * marked too, and every token is checked against the marks when it is used.
 */
@Schema({ collection: 'refresh_families_revoked', versionKey: false })
export class RevokedFamily {
  @Prop({ type: String, required: true })
  _id: string;

  /** Past the expiry of any token of the family (a TTL index removes the mark then). */
  @Prop({ required: true, expires: 0 })
  expires_at: Date;
}

export const RevokedFamilySchema = SchemaFactory.createForClass(RevokedFamily);
