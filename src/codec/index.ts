export * from './bundle.ts';
export * from './body-compression.ts';
export * from './codec-error.ts';
export * from './dictionary.ts';
export * from './kiss.ts';
export * from './link-frame.ts';
