export * from './dist/client';
