/** Its own module so the command line can name it in --help without loading the YAML parser and zod. */
export const DEFAULT_CONFIG_PATH = 'inlet.config.yaml';
