# bash completion for cdnctl: subcommands, options, operation names for
# `call`, profile names for --profile, Lua scripts for the script argument.
_cdnctl() {
  local cur prev words cword
  if declare -F _init_completion >/dev/null; then
    _init_completion || return
  else
    cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD
  fi
  local cmd=${words[0]}
  case $prev in
    --profile) COMPREPLY=($(compgen -W "$("$cmd" profiles --names 2>/dev/null)" -- "$cur")); return ;;
    --output|-o) COMPREPLY=($(compgen -W "json table csv" -- "$cur")); return ;;
    -e) return ;;
  esac
  local i sub=
  for ((i = 1; i < cword; i++)); do
    case ${words[i]} in
      call|profiles|sandbox|whoami) sub=${words[i]}; break ;;
      --profile) ((i++)) ;;
    esac
  done
  case $sub in
    call)
      if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "--list --output --yes --dry-run --help" -- "$cur"))
      else COMPREPLY=($(compgen -W "$("$cmd" call --names 2>/dev/null)" -- "$cur")); fi
      return ;;
    sandbox)
      COMPREPLY=($(compgen -W "--listen --account --state --latency --faults --seed --log --pending --no-demo --compare --help" -- "$cur"))
      return ;;
    whoami)
      COMPREPLY=($(compgen -W "--offline --help" -- "$cur"))
      return ;;
    profiles) return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "-e -v - --sandbox --profile --allow-http --quiet --har --version --help" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "call profiles sandbox whoami" -- "$cur") $(compgen -f -X '!*.lua' -- "$cur") $(compgen -d -- "$cur"))
  fi
}
complete -F _cdnctl cdnctl
