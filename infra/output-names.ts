/**
 * The stack outputs something outside CDK reads (`npm run smoke`, infra/smoke/): one spelling, so that a
 * renamed output breaks the build instead of the smoke test after a deployment.
 */
export const OUTPUTS = {
  /** InletServerless: the inbox bucket's name. */
  inboxBucket: 'InboxBucketName',
  /** InletExtensions: the REST API's stage URL, ending in `/`. */
  apiUrl: 'ApiUrl',
  /** InletServer: the load balancer's URL. */
  uploadUrl: 'UploadUrl',
  /** InletServer: the SFTP load balancer, as sftp://HOST (port 22). */
  sftpUrl: 'SftpUrl',
} as const;

/** The stack each output is in, after the app's `prefix` (infra/inlet.ts). */
export const OUTPUT_STACKS = {
  inboxBucket: 'Serverless',
  apiUrl: 'Extensions',
  uploadUrl: 'Server',
  sftpUrl: 'Server',
} as const satisfies Record<keyof typeof OUTPUTS, string>;
