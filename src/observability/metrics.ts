import type { MetricMeter } from '@temporalio/common';

/** The project's own metrics, next to the SDK's (all served by the worker's Prometheus endpoint). */
export function publisherMetrics(meter: MetricMeter) {
  return {
    archImagesPushed: meter.createCounter(
      'compose_publisher_arch_images_pushed',
      'images',
      'Arch images copied to a registry',
    ),
    archImagesSkipped: meter.createCounter(
      'compose_publisher_arch_images_skipped',
      'images',
      'Arch images a registry already held',
    ),
    bytesPushed: meter.createCounter(
      'compose_publisher_bytes_pushed',
      'bytes',
      'Compressed size of the arch images copied to registries',
    ),
    pushDuration: meter.createHistogram(
      'compose_publisher_push_duration',
      'int',
      'ms',
      'Time to push one arch image to every registry',
    ),
    manifestDuration: meter.createHistogram(
      'compose_publisher_manifest_duration',
      'int',
      'ms',
      'Time to publish one index on one registry',
    ),
  };
}
