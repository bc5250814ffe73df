import { makeAssessStaleness } from './assess-staleness.js';
import { makeCleanup } from './cleanup.js';
import type { ActivityEnvironment } from './environment.js';
import { makeFetchCompose } from './fetch-compose.js';
import { makeInspectPublished } from './inspect-published.js';
import { makePrepareImage } from './prepare-image.js';
import { makePushArchImage, makeUploadArchImage } from './push-arch-image.js';
import { makeTagArchImages } from './tag-arch-image.js';
import { makeNotify } from './notify.js';
import { makeWriteIndex } from './write-index.js';
import { makeSignImages } from './sign-images.js';
import { makeWorkerSettings } from './worker-settings.js';

/** Every activity the publishCompose workflow calls, bound to this host's environment. */
export function createActivities(environment: ActivityEnvironment) {
  return {
    workerSettings: makeWorkerSettings(environment),
    fetchCompose: makeFetchCompose(environment),
    prepareImage: makePrepareImage(environment),
    inspectPublished: makeInspectPublished(environment),
    pushArchImage: makePushArchImage(environment),
    uploadArchImage: makeUploadArchImage(environment),
    tagArchImages: makeTagArchImages(environment),
    writeIndex: makeWriteIndex(environment),
    /** writeIndex by its old name, for runs started before the index-vocabulary patch. */
    pushManifest: makeWriteIndex(environment),
    signImages: makeSignImages(environment),
    notify: makeNotify(environment),
    cleanup: makeCleanup(environment),
    assessStaleness: makeAssessStaleness(environment),
  };
}

export type PublishActivities = ReturnType<typeof createActivities>;
export type { FetchComposeInput } from './fetch-compose.js';
export type { InspectPublishedInput } from './inspect-published.js';
export type { ArchImagePush, PushArchImageInput, UploadArchImageInput } from './push-arch-image.js';
export type { TagArchImagesInput } from './tag-arch-image.js';
export type { WriteIndexInput, WriteIndexResult } from './write-index.js';
export type { ImageSignature, SignImagesInput, SignImagesResult } from './sign-images.js';
export type { CleanupResult } from './cleanup.js';
export type { NotifyInput } from './notify.js';
