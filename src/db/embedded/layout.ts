/**
 * Where the embedded server's pieces are: the cluster and Inlet's record of it under the data directory,
 * and the loopback address and superuser Inlet connects with.
 */
export const CLUSTER_DIR = 'postgres';
export const CONFIG_FILE = 'postgres.json';
export const HOST = '127.0.0.1';
export const SUPERUSER = 'postgres';
export const DATABASE = 'postgres';
