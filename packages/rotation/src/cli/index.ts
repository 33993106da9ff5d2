// The rsb-rotate program as a module, for `rsb rotate` (@rsb/cli): the same options, output and exit statuses.
export { main, type MainIo } from './main.js'
export { helpText } from './help.js'
