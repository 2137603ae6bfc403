import { ChildProcess } from 'node:child_process';

export interface LocalMongo {
  uri: string;
  port: number;
  stop(): Promise<void>;
  process: ChildProcess | null;
}

export interface LocalMongoOptions {
  /** 0 or omitted: a free port. */
  port?: number;
  /** H2 file: data survives restarts. */
  dataFile?: string;
  memory?: boolean;
  log?: (line: string) => void;
  /** The server's heap cap instead of 256 MiB (ignored with LOCAL_MONGO_JAVA_OPTS). */
  heapMiB?: number;
}

export function startLocalMongo(options?: LocalMongoOptions): Promise<LocalMongo>;
export function javaAvailable(): boolean;
/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number>;
export const JAR: string;
export const BUILD_COMMAND: string;
