import { Body, Controller, Get, Injectable, Module, Post } from '@nestjs/common';
import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { IsString, MaxLength } from 'class-validator';
import type { AdminOrganization } from '../../src/auth/authenticated-admin';
import { CurrentTenant } from '../../src/auth/decorators/current-tenant.decorator';
import { envelope } from '../../src/common/envelope';
import { defineTenantEntity } from '../../src/tenancy/tenant';
import { TenantConnectionService } from '../../src/tenancy/tenant-connection.service';

/** A feature module as a platform team would add one: tenant data through the tenancy layer only. */
@Schema({ versionKey: false })
export class Note {
  @Prop({ required: true })
  text: string;
}

export const NoteEntity = defineTenantEntity('notes', SchemaFactory.createForClass(Note));

class CreateNoteDto {
  @IsString()
  @MaxLength(200)
  text: string;
}

@Injectable()
export class NotesService {
  constructor(private readonly tenancy: TenantConnectionService) {}

  async add(tenant: AdminOrganization, text: string) {
    const notes = await this.tenancy.model(tenant, NoteEntity);
    return notes.create({ text });
  }

  async list(tenant: AdminOrganization) {
    const notes = await this.tenancy.model(tenant, NoteEntity);
    return notes.find().sort({ _id: 1 }).lean().exec();
  }
}

/** No access decorator at all: the global guard still requires a valid token. */
@Controller('notes')
export class NotesController {
  constructor(private readonly notes: NotesService) {}

  @Post()
  async add(@CurrentTenant() tenant: AdminOrganization, @Body() body: CreateNoteDto) {
    const note = await this.notes.add(tenant, body.text);
    return envelope('Note created', { id: note._id.toString(), text: note.text });
  }

  @Get()
  async list(@CurrentTenant() tenant: AdminOrganization) {
    const notes = await this.notes.list(tenant);
    return envelope(
      'Notes retrieved',
      notes.map((note) => note.text),
    );
  }
}

@Module({ controllers: [NotesController], providers: [NotesService] })
export class NotesModule {}
