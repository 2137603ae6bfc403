import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';

/**
 * A collection set aside under a name of its own (`<collection>.moving.<id>`), recorded before it is
 * renamed there: until its documents have reached their owners it stays, and whoever finds the record
 * (the step that made it, or recovery once that step died) finishes the job.
 */
@Schema({ collection: 'tenant_asides', versionKey: false })
export class Aside {
  /** Also the suffix of the aside's name: no two asides ever share a name. */
  @Prop({ type: String, required: true })
  _id: string;

  @Prop({ required: true })
  database: string;

  /** The aside's own collection name. */
  @Prop({ required: true })
  name: string;

  /** The storage it was taken from: whoever works on that storage next settles it first. */
  @Prop({ required: true, index: true })
  storage_name: string;

  /** The entity its documents belong to; null for the default collection. */
  @Prop({ type: String, default: null })
  entity: string | null;

  /** The organization whose operation set it aside: unstamped documents (from before stamps) are its. */
  @Prop({ type: Types.ObjectId })
  tenant_id?: Types.ObjectId;

  /** A delete or a rolled-back create: that organization's documents go with the aside. */
  @Prop({ default: false })
  discard_own: boolean;

  /** By the database server's clock: recovery settles asides older than a lease. */
  @Prop({ required: true, index: true })
  created_at: Date;
}

export const AsideSchema = SchemaFactory.createForClass(Aside);
