import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';

export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

/**
 * The SDK's logger interface, writing one JSON object per line to stderr: time, level, message, then the
 * metadata the SDK adds (workflowId, activityType, taskQueue, …) and ours (composeId, repository, registry).
 */
export class JsonLogger implements Logger {
  private readonly threshold: number;

  constructor(
    level: LogLevel = 'INFO',
    private readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {
    this.threshold = LOG_LEVELS.indexOf(level);
  }

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (LOG_LEVELS.indexOf(level) < this.threshold) return;
    const { sdkComponent: _component, ...rest } = meta ?? {};
    this.write(
      JSON.stringify({ time: new Date().toISOString(), level: level.toLowerCase(), message, ...rest }, errorsAsText),
    );
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

function errorsAsText(_key: string, value: unknown): unknown {
  return value instanceof Error ? `${value.name}: ${value.message}` : value;
}
