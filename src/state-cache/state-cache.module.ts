import { Global, Module } from '@nestjs/common';
import { InvalidationChannel } from './invalidation-channel';
import { StateCache } from './state-cache.service';

/** Global: the owners of admins, organizations and members all cache what tokens depend on. */
@Global()
@Module({ providers: [InvalidationChannel, StateCache], exports: [StateCache] })
export class StateCacheModule {}
