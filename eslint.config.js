import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'build/', 'assembly/', 'bench/results/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        clearImmediate: 'readonly',
        URL: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        WebAssembly: 'readonly',
        performance: 'readonly',
        queueMicrotask: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly'
      }
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn'
    }
  },
  // The layers' boundaries (STYLE.md): engine/ sees sip/ and tts/ only through their index.ts;
  // sip/ and tts/ stand alone and never reach up into engine/.
  {
    files: ['engine/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+(sip|tts)/(?!index\\.js$)',
              message: 'engine/ imports sip/ and tts/ only through sip/index.js and tts/index.js.'
            }
          ]
        }
      ]
    }
  },
  // One error scheme: what the package throws is a typed error with an ERR_ code (or a built-in
  // TypeError/RangeError for a wrong argument), never a bare Error.
  {
    files: ['engine/**/*.ts', 'sip/**/*.ts', 'tts/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Error'], CallExpression[callee.name='Error']",
          message: 'Throw a typed error with an ERR_ code (EngineError, SipError, TtsError or a subclass).'
        }
      ]
    }
  },
  {
    files: ['sip/**/*.ts', 'tts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(\\.\\./)+engine/', message: 'sip/ and tts/ must not import engine/.' }] }
      ]
    }
  }
);
