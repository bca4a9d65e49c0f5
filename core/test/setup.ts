// The entry point of every bundle loads reflect-metadata once; tests do the same here.
import 'reflect-metadata';
