export * from './version.js';
export * from './errors.js';
export * from './close-codes.js';
export * from './model.js';
export * from './http.js';
export * from './frames.js';
export * from './welcome.js';
export * from './well-formed.js';
