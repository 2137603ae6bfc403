import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, MongooseHealthIndicator } from '@nestjs/terminus';
import { ApiProblems } from '../common/decorators/api-problems.decorator';
import { HealthDto } from './dto/health.dto';

const PING_TIMEOUT_MS = 2000;

@ApiTags('Health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly mongoose: MongooseHealthIndicator,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Liveness: 200 while the process runs' })
  @ApiOkResponse({ type: HealthDto })
  live(): HealthDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: 200 when the database answers, else 503' })
  @ApiOkResponse({ type: HealthDto })
  @ApiProblems()
  async ready(): Promise<HealthDto> {
    try {
      await this.health.check([() => this.mongoose.pingCheck('database', { timeout: PING_TIMEOUT_MS })]);
    } catch {
      throw new ServiceUnavailableException('Database unavailable');
    }
    return { status: 'ok' };
  }
}
