// The bash completion script of rsb, rsync-system-backup and rsb-rotate, made from the option registry: the command
// words, each command's option table, the backup's OPTIONS, and what each command's positionals and option values
// are (directories, files, snapshot names, job names, fixed words). Pure: the tables in, the script's text out.
import type { OptionDefinition } from '../../kit/getopt.js'

/** What a word completes to. `snapshots`: the names in the store of the command line's DESTINATION (and `latest`
 * where a command takes it); `jobs`: the configuration file's jobs (`rsb config jobs`); `words`: fixed words. */
export type CompletionKind =
  | { readonly kind: 'none' | 'directories' | 'files' | 'jobs' }
  | { readonly kind: 'snapshots'; readonly latest: boolean }
  | { readonly kind: 'words'; readonly words: readonly string[] }

/** One command as the completion sees it. */
export interface CompletionCommand {
  readonly name: string
  readonly options: readonly OptionDefinition[]
  /** Its positionals in order; the last one repeats. */
  readonly positionals: readonly CompletionKind[]
}

const NONE: CompletionKind = { kind: 'none' }
const DIRECTORIES: CompletionKind = { kind: 'directories' }
const FILES: CompletionKind = { kind: 'files' }
const JOBS: CompletionKind = { kind: 'jobs' }

/**
 * What each command's positionals are; a command not named here completes files. The DESTINATION of the commands
 * that read a store comes first: the snapshot names are read from it.
 */
export function positionalKinds(command: string, commandNames: readonly string[]): readonly CompletionKind[] {
  switch (command) {
    case 'backup':
    case 'rotate':
    case 'list':
    case 'status':
    case 'du':
    case 'doctor':
      return [DIRECTORIES]
    case 'diff':
    case 'verify':
      return [DIRECTORIES, { kind: 'snapshots', latest: true }]
    case 'versions':
    case 'restore':
      return [DIRECTORIES, FILES]
    case 'run':
    case 'systemd':
      return [JOBS]
    case 'completion':
      return [{ kind: 'words', words: ['bash'] }, NONE]
    case 'help':
      return [{ kind: 'words', words: commandNames }, NONE]
    default:
      return [FILES]
  }
}

/** What an option's value completes to, by the option's name, else by its value's placeholder (DIR, FILE, PATH). */
export function valueKind(option: OptionDefinition): CompletionKind {
  if (option.value === undefined) return NONE
  switch (option.name) {
    case 'snapshot':
      return { kind: 'snapshots', latest: false }
    case 'job':
      return JOBS
    case 'ionice':
      return { kind: 'words', words: ['idle', 'best-effort', 'realtime'] }
    case 'daemon-hook':
      return { kind: 'words', words: ['pre', 'post'] }
    case 'syslog':
      return { kind: 'words', words: ['yes', 'no'] }
  }
  switch (option.value) {
    case 'DIR':
      return DIRECTORIES
    case 'FILE':
    case 'PATH':
      return FILES
    default:
      return NONE
  }
}

/** A word for the script inside single quotes. */
function quote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`
}

/** A kind as the script's helper reads it: `directories`, `snapshots latest`, `words idle best-effort`. */
function kindWords(kind: CompletionKind): string {
  switch (kind.kind) {
    case 'snapshots':
      return kind.latest ? 'snapshots latest' : 'snapshots'
    case 'words':
      return ['words', ...kind.words].join(' ')
    default:
      return kind.kind
  }
}

/** The long options of a table as completion words: `--dry-run`, `--mount=` (a value follows). */
export function optionWords(options: readonly OptionDefinition[]): string[] {
  return options.map((option) => (option.value === undefined ? `--${option.name}` : `--${option.name}=`))
}

function commandCase(command: CompletionCommand): string[] {
  const valued = command.options.filter((option) => option.value !== undefined)
  const shorts = valued.filter((option) => option.short !== undefined).map((option) => `${option.short}:${option.name}`)
  const lines = [
    `    ${quote(command.name)})`,
    `      options=${quote(optionWords(command.options).join(' '))}`,
    `      shorts=${quote(shorts.join(' '))}`,
    `      positionals=(${command.positionals.map((kind) => quote(kindWords(kind))).join(' ')})`,
  ]
  const values = valued.map((option) => [option.name, kindWords(valueKind(option))] as const).filter(([, kind]) => kind !== 'none')
  if (values.length > 0) lines.push(`      values=(${values.map(([name, kind]) => `[${name}]=${quote(kind)}`).join(' ')})`)
  lines.push('      ;;')
  return lines
}

/**
 * The bash completion script: `_rsb` completes rsb (command words first, then the command's options and arguments;
 * without a command word, the backup's), rsync-system-backup (the backup's) and rsb-rotate (rotate's).
 *
 * @param commands - every command word in the order of `rsb --help`, with its options and positionals (`backup`'s
 *   options are the backup's OPTIONS)
 * @param version - rsb's version, named in the script's first line
 * @returns the script (source it, or put it in a bash-completion directory as `rsb`)
 * @example
 * ```ts
 * completionScript([{ name: 'list', options: [{ name: 'json', description: '…' }], positionals: [{ kind: 'directories' }] }], '1.0.0')
 * ```
 */
export function completionScript(commands: readonly CompletionCommand[], version: string): string {
  const cases = commands.flatMap(commandCase)
  return `# bash completion of rsb, rsync-system-backup and rsb-rotate (rsb ${version}), made by 'rsb completion bash'
# from rsb's option tables. Install it as ~/.local/share/bash-completion/completions/rsb (scripts/install.sh puts it
# in PREFIX/share/bash-completion/completions/), or source it from ~/.bashrc: . <(rsb completion bash)

_rsb_commands=${quote(commands.map((command) => command.name).join(' '))}

# _rsb_spec COMMAND: sets options (long options, = after those that take a value), shorts (LETTER:NAME of the options
# that take a value), positionals (what each positional completes to; the last repeats) and values (NAME: what the
# value of option --NAME completes to)
_rsb_spec() {
  options='' shorts='' positionals=(files) values=()
  case $1 in
${cases.join('\n')}
  esac
}

# _rsb_words: the words of the command line as rsb gets them (words and cword): bash splits --opt=value and
# 2026-12-01\\ 10:00:00 at the characters of COMP_WORDBREAKS (= and :), which are joined again where COMP_LINE has no
# space between them
_rsb_words() {
  local line=\${COMP_LINE-} i word gap
  words=() cword=0
  for ((i = 0; i < \${#COMP_WORDS[@]}; i++)); do
    word=\${COMP_WORDS[i]}
    gap=\${line%%[![:space:]]*}
    line=\${line#"$gap"}
    if [[ $line == "$word"* ]]; then line=\${line#"$word"}; else line=\${line#*"$word"}; fi
    if ((i > 0 && \${#words[@]} > 0)) && [[ -z $gap && -n \${COMP_LINE-} ]] &&
      [[ $word == [=:]* || \${words[\${#words[@]} - 1]} == *[=:] ]]; then
      words[\${#words[@]} - 1]+=$word
    else
      words+=("$word")
    fi
    ((i == COMP_CWORD)) && cword=$((\${#words[@]} - 1))
  done
  return 0
}

# _rsb_dequote WORD: the text the shell makes of WORD (quotes and backslashes removed, a leading ~/ expanded), in REPLY
_rsb_dequote() {
  local word=$1 out='' c i quote=''
  [[ $word == '~' || $word == '~/'* ]] && word=$HOME\${word:1}
  for ((i = 0; i < \${#word}; i++)); do
    c=\${word:i:1}
    if [[ -n $quote ]]; then
      if [[ $c == "$quote" ]]; then quote=''
      elif [[ $quote == '"' && $c == '\\' ]]; then ((i++)); out+=\${word:i:1}
      else out+=$c; fi
    elif [[ $c == "'" || $c == '"' ]]; then quote=$c
    elif [[ $c == '\\' ]]; then ((i++)); out+=\${word:i:1}
    else out+=$c; fi
  done
  REPLY=$out
}

# _rsb_program: the rsb to ask for snapshot and job names (the one on the command line, when it is rsb)
_rsb_program() {
  REPLY=\${COMP_WORDS[0]}
  [[ \${REPLY##*/} == rsb ]] || REPLY=rsb
  [[ $REPLY == '~/'* ]] && REPLY=$HOME\${REPLY:1}
  return 0
}

# _rsb_names ARGS…: the lines rsb prints for ARGS, in names (nothing when it fails)
_rsb_names() {
  local limit=()
  _rsb_program
  command -v timeout >/dev/null 2>&1 && limit=(timeout 10)
  names=()
  local line
  while IFS= read -r line; do [[ -n $line ]] && names+=("$line"); done < <("\${limit[@]}" "$REPLY" "$@" 2>/dev/null </dev/null)
  return 0
}

# _rsb_kept: the start of the current word that readline keeps (up to its last unquoted = or :, when they are in
# COMP_WORDBREAKS), in REPLY
_rsb_kept() {
  local i c quote='' at=0 breaks=\${COMP_WORDBREAKS-=:}
  for ((i = 0; i < \${#cur}; i++)); do
    c=\${cur:i:1}
    if [[ -n $quote ]]; then [[ $c == "$quote" ]] && quote=''
    elif [[ $c == '\\' ]]; then ((i++))
    elif [[ $c == "'" || $c == '"' ]]; then quote=$c
    elif [[ ($c == '=' || $c == ':') && $breaks == *"$c"* ]]; then at=$((i + 1)); fi
  done
  REPLY=\${cur:0:at}
}

# _rsb_reply MODE PREFIX VALUE CANDIDATE…: COMPREPLY gets PREFIX+CANDIDATE for the candidates that start with VALUE
# (as typed: quoted, escaped), less the start of the word that readline keeps. MODE quote: quoted as VALUE is
# (escaped with backslashes, or as typed after an opening quote); raw: as they are (bash quotes file names)
_rsb_reply() {
  local mode=$1 prefix=$2 typed=$3 candidate quoted keep
  shift 3
  _rsb_kept
  keep=$REPLY
  _rsb_dequote "$typed"
  local value=$REPLY
  for candidate in "$@"; do
    [[ $candidate == "$value"* ]] || continue
    if [[ $mode == raw || $typed == [\\'\\"]* ]]; then quoted=$candidate; else printf -v quoted %q "$candidate"; fi
    quoted=$prefix$quoted
    [[ $quoted == "$keep"* ]] && COMPREPLY+=("\${quoted#"$keep"}")
  done
  return 0
}

# _rsb_complete KIND PREFIX VALUE: completes VALUE (typed after PREFIX in the current word) as KIND
_rsb_complete() {
  local kind=$1 prefix=$2 value=$3
  case $kind in
    directories | files)
      compopt -o filenames 2>/dev/null
      _rsb_dequote "$value"
      local option=-f
      [[ $kind == directories ]] && option=-d
      local -a found
      mapfile -t found < <(compgen "$option" -- "$REPLY")
      _rsb_reply raw "$prefix" "$value" "\${found[@]}"
      ;;
    snapshots*)
      local destination
      _rsb_destination
      [[ -n $destination ]] || return 0
      _rsb_names completion --snapshots "$destination"
      [[ $kind == *latest ]] && names+=(latest)
      _rsb_reply quote "$prefix" "$value" "\${names[@]}"
      ;;
    jobs)
      _rsb_names config jobs
      _rsb_reply quote "$prefix" "$value" "\${names[@]}"
      ;;
    words\\ *)
      local -a list
      read -ra list <<<"\${kind#words }"
      _rsb_reply quote "$prefix" "$value" "\${list[@]}"
      ;;
  esac
  return 0
}

# _rsb_takes_value WORD: whether WORD is an option whose value is the next word; its long name in REPLY
_rsb_takes_value() {
  local word=$1 i letter pair
  REPLY=''
  case $word in
    --*=* | - | --) return 1 ;;
    --*)
      _rsb_long "\${word#--}"
      [[ -n $REPLY && " $options " == *" --$REPLY= "* ]]
      return
      ;;
    -*)
      for ((i = 1; i < \${#word}; i++)); do
        letter=\${word:i:1}
        for pair in $shorts; do
          [[ \${pair%%:*} == "$letter" ]] || continue
          REPLY=\${pair#*:}
          ((i == \${#word} - 1))
          return
        done
      done
      return 1
      ;;
  esac
  return 1
}

# _rsb_long TYPED: the long option a typed --NAME means (exact, or the only one it begins), in REPLY
_rsb_long() {
  local typed=$1 pair found=''
  REPLY=''
  for pair in $options; do
    pair=\${pair#--}
    pair=\${pair%=}
    [[ $pair == "$typed" ]] && { REPLY=$pair; return 0; }
    [[ $pair == "$typed"* ]] && found+=" $pair"
  done
  found=\${found# }
  [[ -n $found && $found != *' '* ]] && REPLY=$found
  return 0
}

# _rsb_destination: the command's first positional (the DESTINATION whose snapshots are named), in destination
_rsb_destination() {
  local i word skip=0 end=0
  destination=''
  for ((i = start; i < \${#words[@]}; i++)); do
    ((i == cword)) && continue
    word=\${words[i]}
    if ((skip)); then skip=0; continue; fi
    if ((!end)) && [[ $word == -?* ]]; then
      [[ $word == -- ]] && { end=1; continue; }
      _rsb_takes_value "$word" && skip=1
      continue
    fi
    _rsb_dequote "$word"
    destination=$REPLY
    return 0
  done
  return 0
}

_rsb() {
  local words cword cur command start=1 i word skip=0 end=0 count=0 REPLY options shorts
  local -a positionals
  local -A values
  COMPREPLY=()
  _rsb_words
  cur=\${words[cword]}
  case \${words[0]##*/} in
    rsync-system-backup) command=backup ;;
    rsb-rotate) command=rotate ;;
    *)
      if ((cword == 1)) && [[ $cur != -* && $cur != */* && $cur != [.~]* ]]; then
        _rsb_complete "words $_rsb_commands" '' "$cur"
        return 0
      fi
      command=backup
      if [[ " $_rsb_commands " == *" \${words[1]} "* ]] && ((cword > 1)); then command=\${words[1]} start=2; fi
      ;;
  esac
  _rsb_spec "$command"
  # where the cursor is: after an option that takes the next word, an option, or the how-manieth positional
  for ((i = start; i < cword; i++)); do
    word=\${words[i]}
    if ((skip)); then skip=0; continue; fi
    if ((!end)) && [[ $word == -?* ]]; then
      [[ $word == -- ]] && { end=1; continue; }
      _rsb_takes_value "$word" && skip=1
      continue
    fi
    ((count++))
  done
  if ((skip)); then
    _rsb_takes_value "\${words[cword - 1]}"
    _rsb_complete "\${values[$REPLY]-none}" '' "$cur"
    return 0
  fi
  if ((!end)) && [[ $cur == --*=* ]]; then
    word=\${cur%%=*}
    _rsb_long "\${word#--}"
    [[ -n $REPLY ]] && _rsb_complete "\${values[$REPLY]-none}" "\${cur%%=*}=" "\${cur#*=}"
    return 0
  fi
  if ((!end)) && [[ $cur == -* ]]; then
    local -a list
    read -ra list <<<"$options"
    _rsb_reply quote '' "$cur" "\${list[@]}"
    [[ \${#COMPREPLY[@]} -eq 1 && \${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
    return 0
  fi
  ((count >= \${#positionals[@]})) && count=$((\${#positionals[@]} - 1))
  _rsb_complete "\${positionals[count]}" '' "$cur"
  return 0
}

complete -F _rsb rsb rsync-system-backup rsb-rotate
`
}
