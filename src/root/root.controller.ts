import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/decorators/public.decorator';
import { RootDto } from './dto/root.dto';
import { DOCS_PATH, OPENAPI_JSON_PATH, REDOC_PATH, SERVICE_NAME, SERVICE_VERSION } from './service-info';

@ApiTags('Service')
@Public()
@Controller()
export class RootController {
  @Get()
  @ApiOperation({ summary: 'What this service is, its version, and where its API documentation is' })
  @ApiOkResponse({ type: RootDto })
  describe(): RootDto {
    return {
      name: SERVICE_NAME,
      version: SERVICE_VERSION,
      links: { docs: `/${DOCS_PATH}`, openapi: `/${OPENAPI_JSON_PATH}`, redoc: `/${REDOC_PATH}` },
    };
  }
}
