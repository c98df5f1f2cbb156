import type { AuthResult } from './auth.js';
import type { BucketStore } from './bucket-store.js';
import * as buckets from './buckets.js';
import { s3Errors } from './errors.js';
import * as multipart from './multipart.js';
import * as objects from './objects.js';
import { header, type S3Request } from './request.js';

/** Query parameters that select a sub-resource in S3; those not handled below are answered with NotImplemented. */
const SUBRESOURCES = new Set([
  'accelerate',
  'acl',
  'analytics',
  'attributes',
  'cors',
  'delete',
  'encryption',
  'intelligent-tiering',
  'inventory',
  'legal-hold',
  'lifecycle',
  'location',
  'logging',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'policy',
  'policyStatus',
  'publicAccessBlock',
  'replication',
  'requestPayment',
  'restore',
  'retention',
  'select',
  'tagging',
  'torrent',
  'uploadId',
  'uploads',
  'versioning',
  'versions',
  'website',
]);

export interface RouteContext {
  storage: BucketStore;
  region: string;
}

/** Maps a verified request to its S3 operation, by method, bucket/key presence and sub-resource. */
export async function route(ctx: S3Request, auth: AuthResult, env: RouteContext): Promise<void> {
  const { storage, region } = env;
  const sub = Object.keys(ctx.query).filter((name) => SUBRESOURCES.has(name));
  const has = (name: string) => sub.includes(name);
  const only = (...allowed: string[]) => sub.every((s) => allowed.includes(s));
  const unsupported = () =>
    s3Errors.notImplemented(`${ctx.method} ${sub.length > 0 ? `?${sub.join('&')}` : ''}`.trim());
  const { bucket, key, method } = ctx;

  if (bucket === undefined) {
    if (method === 'GET' && sub.length === 0) return buckets.listBuckets(ctx, storage);
    throw s3Errors.methodNotAllowed();
  }

  if (key === undefined) {
    switch (method) {
      case 'PUT':
        if (sub.length === 0) return buckets.createBucket(ctx, storage, bucket);
        throw unsupported();
      case 'HEAD':
        return buckets.headBucket(ctx, storage, bucket, region);
      case 'DELETE':
        if (sub.length === 0) return buckets.deleteBucket(ctx, storage, bucket);
        throw unsupported();
      case 'GET':
        if (sub.length === 0) return buckets.listObjects(ctx, storage, bucket);
        if (has('location') && only('location'))
          return buckets.getBucketLocation(ctx, storage, bucket, region);
        if (has('uploads') && only('uploads')) return multipart.listMultipartUploads(ctx, storage, bucket);
        throw unsupported();
      case 'POST':
        if (has('delete') && only('delete')) return buckets.deleteObjects(ctx, auth, storage, bucket);
        throw unsupported();
      default:
        throw s3Errors.methodNotAllowed();
    }
  }

  switch (method) {
    case 'PUT': {
      const copySource = header(ctx.req, 'x-amz-copy-source');
      if (has('uploadId') && only('uploadId')) {
        if (copySource !== undefined) throw s3Errors.notImplemented('UploadPartCopy');
        return multipart.uploadPart(ctx, auth, storage);
      }
      if (has('tagging') && only('tagging')) return objects.putTagging(ctx, auth, storage);
      if (sub.length > 0) throw unsupported();
      if (copySource !== undefined) return objects.copyObject(ctx, storage, copySource);
      return objects.putObject(ctx, auth, storage);
    }
    case 'GET':
    case 'HEAD':
      if (sub.length === 0) return objects.getObject(ctx, storage);
      if (method === 'GET' && has('uploadId') && only('uploadId')) return multipart.listParts(ctx, storage);
      if (method === 'GET' && has('tagging') && only('tagging')) return objects.getTagging(ctx, storage);
      throw unsupported();
    case 'DELETE':
      if (sub.length === 0) return objects.deleteObject(ctx, storage);
      if (has('uploadId') && only('uploadId')) return multipart.abortMultipartUpload(ctx, storage);
      if (has('tagging') && only('tagging')) return objects.deleteTagging(ctx, storage);
      throw unsupported();
    case 'POST':
      if (has('uploads') && only('uploads')) return multipart.createMultipartUpload(ctx, storage);
      if (has('uploadId') && only('uploadId')) return multipart.completeMultipartUpload(ctx, auth, storage);
      throw unsupported();
    default:
      throw s3Errors.methodNotAllowed();
  }
}
