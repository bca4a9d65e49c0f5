// The config code generation lives in the SDK (sdk/build/config-codegen.mjs), which plugin
// authors use through `wrtkit-sdk gen-config`.
export * from '../../sdk/build/config-codegen.mjs';
