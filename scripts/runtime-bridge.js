export * from '../sdk/build/runtime-bridge.mjs';
