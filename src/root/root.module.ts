import { Module } from '@nestjs/common';
import { RootController } from './root.controller';

/** `GET /`: a first request answers with the service's name, version and documentation links. */
@Module({ controllers: [RootController] })
export class RootModule {}
