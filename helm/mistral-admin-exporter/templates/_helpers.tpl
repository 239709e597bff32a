{{/*
The chart's name, or nameOverride.
*/}}
{{- define "mistral-admin-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the resources: fullnameOverride, or <release>-<chart> (just
the release's name when it already contains the chart's). 63 characters at most.
*/}}
{{- define "mistral-admin-exporter.fullname" -}}
{{- $fullname := "" }}
{{- if .Values.fullnameOverride }}
{{- $fullname = .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- $fullname = .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $fullname = printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- /* The Service takes this name: it must be a DNS-1035 label, which a release name need not be. */}}
{{- if not (regexMatch `^[a-z]([-a-z0-9]*[a-z0-9])?$` $fullname) }}
{{- fail (printf "The resources would be named %q, which is not a DNS-1035 label (lower case letters, digits and -, starting with a letter) as a Service's name must be: set fullnameOverride, or use a release name starting with a letter, without dots." $fullname) }}
{{- end }}
{{- $fullname }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "mistral-admin-exporter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every resource.
*/}}
{{- define "mistral-admin-exporter.labels" -}}
helm.sh/chart: {{ include "mistral-admin-exporter.chart" . }}
{{ include "mistral-admin-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | regexReplaceAll "[^A-Za-z0-9]+$" "" | quote }}
app.kubernetes.io/component: exporter
app.kubernetes.io/part-of: mistral-admin-exporter
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels: what the Deployment, Service and ServiceMonitor match on.
*/}}
{{- define "mistral-admin-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mistral-admin-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The image reference: repository, then the digest or the tag (appVersion by default).
*/}}
{{- define "mistral-admin-exporter.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
The port the exporter listens on: config.port, or the exporter's default.
*/}}
{{- define "mistral-admin-exporter.port" -}}
{{- $port := get (.Values.config | default dict) "port" }}
{{- if or (kindIs "invalid" $port) (eq (toString $port) "") }}10460{{ else }}{{ $port | int }}{{ end }}
{{- end }}

{{/*
Whether the chart makes a Secret for the Admin API key ("true" or empty):
only for apiKey.value, outside demo mode.
*/}}
{{- define "mistral-admin-exporter.chartApiKey" -}}
{{- if and (not .Values.demo) (not .Values.existingSecret.name) .Values.apiKey.value }}true{{ end }}
{{- end }}

{{/*
Whether the chart makes a Secret for the user-id hash key ("true" or empty).
*/}}
{{- define "mistral-admin-exporter.chartUserIdHashKey" -}}
{{- if and (not .Values.userIdHashKey.existingSecret.name) .Values.userIdHashKey.value }}true{{ end }}
{{- end }}

{{/*
The Secret and key holding the Admin API key: existingSecret, or the chart's own.
*/}}
{{- define "mistral-admin-exporter.apiKeySecretName" -}}
{{- .Values.existingSecret.name | default (include "mistral-admin-exporter.fullname" .) }}
{{- end }}
{{- define "mistral-admin-exporter.apiKeySecretKey" -}}
{{- if .Values.existingSecret.name }}{{ .Values.existingSecret.key | default "api-key" }}{{ else }}api-key{{ end }}
{{- end }}

{{/*
The Secret and key holding the user-id hash key: its existingSecret, or the chart's own.
*/}}
{{- define "mistral-admin-exporter.userIdHashKeySecretName" -}}
{{- .Values.userIdHashKey.existingSecret.name | default (include "mistral-admin-exporter.fullname" .) }}
{{- end }}
{{- define "mistral-admin-exporter.userIdHashKeySecretKey" -}}
{{- if .Values.userIdHashKey.existingSecret.name }}{{ .Values.userIdHashKey.existingSecret.key | default "user-id-hash-key" }}{{ else }}user-id-hash-key{{ end }}
{{- end }}

{{/*
Whether a user-id hash key is mounted ("true" or empty).
*/}}
{{- define "mistral-admin-exporter.hasUserIdHashKey" -}}
{{- if or .Values.userIdHashKey.existingSecret.name .Values.userIdHashKey.value }}true{{ end }}
{{- end }}

{{/*
TLS and authentication on the listener (values under web): whether the
exporter gets a web config ("true" or empty), the Secret holding it and its
key, and where the chart mounts it and the certificate.
*/}}
{{- define "mistral-admin-exporter.webEnabled" -}}
{{- if or .Values.web.tls.enabled .Values.web.basicAuth.users .Values.web.existingSecret.name }}true{{ end }}
{{- end }}
{{- define "mistral-admin-exporter.webBearerToken" -}}
{{- if .Values.web.bearerToken.existingSecret.name }}true{{ end }}
{{- end }}
{{- define "mistral-admin-exporter.webConfigSecretName" -}}
{{- .Values.web.existingSecret.name | default (printf "%s-web-config" (include "mistral-admin-exporter.fullname" . | trunc 52 | trimSuffix "-")) }}
{{- end }}
{{- define "mistral-admin-exporter.webConfigSecretKey" -}}
{{- if .Values.web.existingSecret.name }}{{ .Values.web.existingSecret.key | default "web-config.yml" }}{{ else }}web-config.yml{{ end }}
{{- end }}

{{/*
The web config the chart writes (exporter-toolkit format), with the paths
where deployment.yaml mounts the certificate Secret.
*/}}
{{- define "mistral-admin-exporter.webConfig" -}}
{{- $tls := .Values.web.tls }}
{{- if $tls.enabled }}
tls_server_config:
  cert_file: /etc/mistral-admin-exporter/tls/tls.crt
  key_file: /etc/mistral-admin-exporter/tls/tls.key
  min_version: {{ $tls.minVersion | default "TLS12" }}
  {{- if and $tls.clientAuthType (ne $tls.clientAuthType "NoClientCert") }}
  client_auth_type: {{ $tls.clientAuthType }}
  {{- if has $tls.clientAuthType (list "VerifyClientCertIfGiven" "RequireAndVerifyClientCert") }}
  client_ca_file: /etc/mistral-admin-exporter/tls/ca.crt
  {{- end }}
  {{- end }}
{{- end }}
{{- with .Values.web.basicAuth.users }}
basic_auth_users:
  {{- range $user, $hash := . }}
  {{ $user | quote }}: {{ $hash | quote }}
  {{- end }}
{{- end }}
{{- end }}

{{/*
What the web values must agree on: TLS needs its Secret, client
certificates need TLS, and a ServiceMonitor must be able to scrape what
the listener asks for (a password, a client certificate).
*/}}
{{- define "mistral-admin-exporter.checkWeb" -}}
{{- $tls := .Values.web.tls }}
{{- if and $tls.enabled (not $tls.secretName) }}
{{- fail "web.tls.enabled needs web.tls.secretName: a kubernetes.io/tls Secret with tls.crt and tls.key (e.g. the secretName of a cert-manager Certificate)." }}
{{- end }}
{{- if and (not $tls.enabled) $tls.clientAuthType (ne $tls.clientAuthType "NoClientCert") }}
{{- fail (printf "web.tls.clientAuthType=%s needs web.tls.enabled: client certificates come with TLS." $tls.clientAuthType) }}
{{- end }}
{{- if and (not $tls.enabled) .Values.web.existingSecret.name $tls.secretName }}
{{- fail "web.tls.secretName is set but web.tls.enabled is not: with web.existingSecret, set web.tls.enabled to match your web config (probes and the ServiceMonitor's scheme follow it)." }}
{{- end }}
{{- if .Values.serviceMonitor.enabled }}
{{- if and .Values.web.basicAuth.users (not .Values.serviceMonitor.basicAuth) (not (and .Values.web.bearerToken.existingSecret.name .Values.serviceMonitor.authorization)) }}
{{- fail "web.basicAuth.users is set but serviceMonitor.basicAuth is not: Prometheus would get 401. Give serviceMonitor.basicAuth (username and password, each a key of a Secret)." }}
{{- end }}
{{- if and .Values.web.bearerToken.existingSecret.name (not .Values.web.basicAuth.users) (not .Values.serviceMonitor.authorization) }}
{{- fail "web.bearerToken.existingSecret.name is set but serviceMonitor.authorization is not: Prometheus would get 401. Give serviceMonitor.authorization (type: Bearer, credentials from a Secret)." }}
{{- end }}
{{- if and $tls.enabled (has $tls.clientAuthType (list "RequireAnyClientCert" "RequireAndVerifyClientCert")) (not (get (.Values.serviceMonitor.tlsConfig | default dict) "cert")) }}
{{- fail (printf "web.tls.clientAuthType=%s requires a client certificate, which the ServiceMonitor does not give: set serviceMonitor.tlsConfig (ca, cert, keySecret)." $tls.clientAuthType) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
A config value as the text of its environment variable: lists joined with
commas, numbers as integers (YAML numbers arrive as float64, which would
print 1e+06), the rest as written.
*/}}
{{- define "mistral-admin-exporter.envValue" -}}
{{- if kindIs "slice" . }}{{ join "," . }}
{{- else if or (kindIs "float64" .) (kindIs "int64" .) (kindIs "int" .) }}{{ . | int64 }}
{{- else }}{{ . }}
{{- end }}
{{- end }}

{{/*
A duration in milliseconds, read as the exporter reads its durations
(parseDuration, src/config/values.ts) and Prometheus its own: parts
<number><unit> from the largest unit to the smallest, each unit once, units
ms, s, m, h, d, w, and y (365d) when .prometheus is true. Fails, naming .what,
when .value is not one.
  include "mistral-admin-exporter.durationMs" (dict "what" "config.x" "value" "1h30m") | int64
*/}}
{{- define "mistral-admin-exporter.durationMs" -}}
{{- $units := dict "y" 31536000000 "w" 604800000 "d" 86400000 "h" 3600000 "m" 60000 "s" 1000 "ms" 1 }}
{{- $text := toString .value | trim }}
{{- $parts := regexFindAll `[0-9]+(\.[0-9]+)?(ms|s|m|h|d|w|y)` $text -1 }}
{{- $ok := and $parts (eq (join "" $parts) $text) }}
{{- $total := 0.0 }}
{{- $previous := 0 }}
{{- range $part := $parts }}
{{- $number := regexFind `^[0-9]+(\.[0-9]+)?` $part }}
{{- $unit := trimPrefix $number $part }}
{{- $size := get $units $unit }}
{{- if and $previous (ge $size $previous) }}{{ $ok = false }}{{ end }}
{{- if and (eq $unit "y") (not (get $ "prometheus")) }}{{ $ok = false }}{{ end }}
{{- $previous = $size }}
{{- $total = addf $total (mulf $number $size) }}
{{- end }}
{{- if not $ok }}
{{- fail (printf "%s=%q is not a duration: write e.g. 30s, 5m or 1h30m (units ms, s, m, h, d, w, from the largest to the smallest, each once)." .what $text) }}
{{- end }}
{{- round $total 0 | int64 }}
{{- end }}

{{/*
The exporter's settings as the pod will get them, as JSON: for each setting
given a value, {"text": the value as the exporter reads it, "what": where it
comes from}. As in the exporter, a flag in extraArgs wins over a variable
(config.<key>, or the setting's variable in extraEnv), and a config value
counts when it is set (not null, "" or []). Fails on what extraArgs and
extraEnv may not hold: what the chart sets itself (the port, the key files),
a key, a variable config also sets, and arguments the exporter refuses.
*/}}
{{- define "mistral-admin-exporter.givenSettings" -}}
{{- $s := include "mistral-admin-exporter.settings" . | fromJson }}
{{- $given := dict }}
{{- range $key, $value := (.Values.config | default dict) }}
{{- if and (hasKey $s.settings $key) (not (kindIs "invalid" $value)) }}
{{- $text := include "mistral-admin-exporter.envValue" $value }}
{{- if trim $text }}
{{- $_ := set $given $key (dict "text" $text "what" (printf "config.%s" $key)) }}
{{- end }}
{{- end }}
{{- end }}
{{- /* extraEnv: a setting's variable with a plain value is checked like config; valueFrom is the user's to answer for. */}}
{{- $envKey := dict }}
{{- $flagKey := dict }}
{{- range $key, $def := $s.settings }}
{{- $_ := set $envKey $def.env $key }}
{{- $_ := set $flagKey $def.flag $key }}
{{- end }}
{{- $names := list }}
{{- range $e := (.Values.extraEnv | default list) }}
{{- $name := get $e "name" | toString }}
{{- if has $name $names }}
{{- fail (printf "extraEnv %s: set twice." $name) }}
{{- end }}
{{- $names = append $names $name }}
{{- if hasKey $s.chartEnv $name }}
{{- fail (printf "extraEnv %s: %s." $name (get $s.chartEnv $name)) }}
{{- else if hasKey $envKey $name }}
{{- $key := get $envKey $name }}
{{- if hasKey $given $key }}
{{- fail (printf "extraEnv %s: also set by config.%s; keep config.%s (which the chart checks)." $name $key $key) }}
{{- end }}
{{- $value := get $e "value" | toString }}
{{- if and (hasKey $e "value") (trim $value) }}
{{- $_ := set $given $key (dict "text" $value "what" (printf "extraEnv %s" $name)) }}
{{- end }}
{{- end }}
{{- end }}
{{- /* extraArgs, read as the exporter reads its arguments (node's parseArgs, strict, no positionals): --flag=value, or --flag value. */}}
{{- $args := .Values.extraArgs | default list }}
{{- $skip := false }}
{{- range $i, $arg := $args }}
{{- if $skip }}
{{- $skip = false }}
{{- else }}
{{- $arg = toString $arg }}
{{- if or (not (hasPrefix "--" $arg)) (eq $arg "--") }}
{{- fail (printf "extraArgs %q: the exporter takes only flags (--flag=value, or --flag value), and refuses anything else when it starts; see mistral-admin-exporter --help." $arg) }}
{{- end }}
{{- $parts := splitn "=" 2 (trimPrefix "--" $arg) }}
{{- $flag := index $parts "_0" }}
{{- if has $flag (list "help" "version") }}
{{- fail (printf "extraArgs --%s: the exporter would print its %s and exit, and the pod restart forever." $flag $flag) }}
{{- else if eq $flag "demo" }}
{{- fail "extraArgs --demo: set demo=true instead (the chart then mounts no key, and says it is demo mode)." }}
{{- else if hasKey $s.chartFlags $flag }}
{{- fail (printf "extraArgs --%s: %s." $flag (get $s.chartFlags $flag)) }}
{{- else if not (hasKey $flagKey $flag) }}
{{- fail (printf "extraArgs --%s: not a flag of the exporter, which would refuse to start; see mistral-admin-exporter --help." $flag) }}
{{- end }}
{{- $value := index $parts "_1" }}
{{- if not (contains "=" $arg) }}
{{- $next := add1 $i }}
{{- if ge $next (len $args) }}
{{- fail (printf "extraArgs --%s: needs a value (--%s=VALUE)." $flag $flag) }}
{{- end }}
{{- $value = index $args $next | toString }}
{{- if hasPrefix "-" $value }}
{{- fail (printf "extraArgs --%s %s: the exporter takes a value starting with - as a flag; write --%s=%s." $flag $value $flag $value) }}
{{- end }}
{{- $skip = true }}
{{- end }}
{{- $_ := set $given (get $flagKey $flag) (dict "text" $value "what" (printf "extraArgs --%s" $flag)) }}
{{- end }}
{{- end }}
{{- toJson $given }}
{{- end }}

{{/*
Fails the render on a setting the exporter would refuse when it starts
(src/config/settings.ts and src/config/index.ts), for the pod and for each
organization of `organizations` (checkOrganizations first), rather than leave a pod
that restarts forever: durations and sizes it cannot read or that are too
short, numbers out of range, analytics windows that are not whole days,
unknown endpoints, a URL it refuses, and a maxStaleness not longer than the
longest refresh interval of the endpoints read. The values are those of
givenSettings (config, extraEnv, extraArgs); settings not given are checked at
their defaults, as they take part in the cross-checks.
*/}}
{{- define "mistral-admin-exporter.checkConfig" -}}
{{- include "mistral-admin-exporter.checkOrganizations" . }}
{{- $s := include "mistral-admin-exporter.settings" . | fromJson }}
{{- $given := include "mistral-admin-exporter.givenSettings" . | fromJson }}
{{- include "mistral-admin-exporter.checkGiven" $given }}
{{- /* Each organization: its settings over the pod's (they win over flags too, as in the exporter). */}}
{{- range $i, $o := (.Values.organizations | default list) }}
{{- $orgGiven := deepCopy $given }}
{{- range $env, $value := (get $o "settings" | default dict) }}
{{- $_ := set $orgGiven (get $s.orgSettings $env) (dict "text" (include "mistral-admin-exporter.envValue" $value) "what" (printf "organizations[%d] %q: settings.%s" $i (get $o "name" | toString) $env)) }}
{{- end }}
{{- include "mistral-admin-exporter.checkGiven" $orgGiven }}
{{- end }}
{{- end }}

{{/*
The checks of checkConfig on one set of given settings (givenSettings' JSON,
as a dict): those of the pod, or those of one organization.
*/}}
{{- define "mistral-admin-exporter.checkGiven" -}}
{{- $s := include "mistral-admin-exporter.settings" . | fromJson }}
{{- $given := . }}
{{- $day := 86400000 }}
{{- $ms := dict }}
{{- $shown := dict }}
{{- $read := $s.endpoints }}
{{- range $key, $def := $s.settings }}
{{- $text := "" }}
{{- $what := printf "config.%s" $key }}
{{- $note := "" }}
{{- if hasKey $given $key }}
{{- $text = (get $given $key).text }}
{{- $what = (get $given $key).what }}
{{- else if hasKey $def "default" }}
{{- $text = $def.default }}
{{- $note = " (the exporter's default)" }}
{{- end }}
{{- /* An empty flag value is still a value (--log-level= is refused); empty variables are unset. */}}
{{- if or $text (hasKey $given $key) }}
{{- $bad := printf "%s=%q%s" $what $text $note }}
{{- $_ := set $shown $key $bad }}
{{- if eq $def.kind "duration" }}
{{- $n := include "mistral-admin-exporter.durationMs" (dict "what" $what "value" $text) | int64 }}
{{- $min := int64 $def.minMs }}
{{- if lt $n $min }}
{{- if eq $min 1 }}
{{- fail (printf "%s: must be longer than 0s." $bad) }}
{{- else if eq (mod $min 1000) 0 }}
{{- fail (printf "%s: must be at least %ds." $bad (div $min 1000)) }}
{{- else }}
{{- fail (printf "%s: must be at least %dms." $bad $min) }}
{{- end }}
{{- end }}
{{- $_ := set $ms $key $n }}
{{- else if eq $def.kind "integer" }}
{{- $t := trim $text }}
{{- if or (not (regexMatch `^[0-9]{1,15}$` $t)) (lt (int64 $t) (int64 $def.min)) (and (hasKey $def "max") (gt (int64 $t) (int64 $def.max))) }}
{{- if hasKey $def "max" }}
{{- fail (printf "%s: must be a whole number from %d to %d." $bad (int64 $def.min) (int64 $def.max)) }}
{{- else }}
{{- fail (printf "%s: must be a whole number of at least %d." $bad (int64 $def.min)) }}
{{- end }}
{{- end }}
{{- else if eq $def.kind "size" }}
{{- $t := trim $text }}
{{- $units := dict "" 1 "b" 1 "kb" 1000 "mb" 1000000 "gb" 1000000000 "kib" 1024 "mib" 1048576 "gib" 1073741824 }}
{{- $number := regexFind `^[0-9]+(\.[0-9]+)?` $t }}
{{- $unit := trimPrefix $number $t | trim | lower }}
{{- if or (not $number) (not (regexMatch `^[a-z]*$` $unit)) (not (hasKey $units $unit)) }}
{{- fail (printf "%s: not a size (write e.g. 32MiB, 500kB or 1048576)." $bad) }}
{{- end }}
{{- $bytes := round (mulf $number (get $units $unit)) 0 | int64 }}
{{- if lt $bytes (int64 $def.minBytes) }}
{{- fail (printf "%s: must be at least %d bytes." $bad (int64 $def.minBytes)) }}
{{- end }}
{{- else if eq $def.kind "url" }}
{{- $url := trim $text }}
{{- if not (regexMatch $s.urlPattern $url) }}
{{- fail (printf "%s: must be an http:// or https:// URL without credentials, query or fragment, e.g. https://console.mistral.ai/api/admin." $bad) }}
{{- end }}
{{- $port := regexFind `:[0-9]+$` (urlParse $url).host | trimPrefix ":" }}
{{- if and $port (or (lt (int64 $port) 1) (gt (int64 $port) 65535)) }}
{{- fail (printf "%s: the port must be from 1 to 65535." $bad) }}
{{- end }}
{{- else if or (eq $def.kind "windows") (eq $def.kind "endpoints") }}
{{- $items := list }}
{{- range $piece := splitList "," $text }}
{{- $item := trim $piece }}
{{- if and $item (not (has $item $items)) }}{{ $items = append $items $item }}{{ end }}
{{- end }}
{{- if eq $def.kind "windows" }}
{{- if not $items }}
{{- fail (printf "%s: needs at least one window, e.g. 1d,7d,30d." $bad) }}
{{- end }}
{{- $lengths := list }}
{{- range $window := $items }}
{{- $n := include "mistral-admin-exporter.durationMs" (dict "what" (printf "%s, window" $what) "value" $window) | int64 }}
{{- if or (lt $n $day) (ne (mod $n $day) 0) }}
{{- fail (printf "%s: %s is not a whole number of days (Vibe Code's figures are daily): use e.g. 1d, 7d, 30d." $bad $window) }}
{{- end }}
{{- if not (regexMatch `^[a-z0-9]+$` $window) }}
{{- fail (printf "%s: write each window as one number and unit, e.g. 7d or 2w, not %s." $bad $window) }}
{{- end }}
{{- if has $n $lengths }}
{{- fail (printf "%s: two windows have the same length." $bad) }}
{{- end }}
{{- $lengths = append $lengths $n }}
{{- end }}
{{- else }}
{{- if and (eq (len $items) 1) (eq (first $items) "all") }}
{{- $read = $s.endpoints }}
{{- else if not $items }}
{{- fail (printf "%s: needs at least one endpoint, or all." $bad) }}
{{- else }}
{{- range $item := $items }}
{{- if eq $item "all" }}
{{- fail (printf "%s: all stands alone: write all, or a list of endpoints." $bad) }}
{{- else if not (has $item $s.endpoints) }}
{{- fail (printf "%s: %s is not an endpoint: write all, or some of %s." $bad $item (join ", " $s.endpoints)) }}
{{- end }}
{{- end }}
{{- $read = list }}
{{- range $e := $s.endpoints }}{{ if has $e $items }}{{ $read = append $read $e }}{{ end }}{{ end }}
{{- end }}
{{- end }}
{{- else if eq $def.kind "bool" }}
{{- if not (has (trim $text | lower) (list "true" "1" "yes" "on" "false" "0" "no" "off")) }}
{{- fail (printf "%s: not a boolean (use true or false)." $bad) }}
{{- end }}
{{- else if eq $def.kind "choice" }}
{{- $choice := ternary (lower $text) $text $def.caseInsensitive | trim }}
{{- if not (has $choice $def.choices) }}
{{- fail (printf "%s: must be one of %s." $bad (join ", " $def.choices)) }}
{{- end }}
{{- else if eq $def.kind "address" }}
{{- if or (not (trim $text)) (regexMatch `\s` (trim $text)) }}
{{- fail (printf "%s: not an address." $bad) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- /* Data older than maxStaleness is withdrawn: it must outlast the longest refresh interval of the endpoints read. */}}
{{- $slowest := 0 }}
{{- $slowestKey := "" }}
{{- $slowestEndpoint := "" }}
{{- range $e := $read }}
{{- $pair := get $s.endpointIntervals $e }}
{{- $key := ternary (index $pair 0) (index $pair 1) (hasKey $ms (index $pair 0)) }}
{{- $n := get $ms $key | int64 }}
{{- if gt $n (int64 $slowest) }}
{{- $slowest = $n }}
{{- $slowestKey = $key }}
{{- $slowestEndpoint = $e }}
{{- end }}
{{- end }}
{{- if le (get $ms "maxStaleness" | int64) (int64 $slowest) }}
{{- fail (printf "%s must be longer than the longest refresh interval, %s (for %s), or data would be withdrawn between two good refreshes: lengthen it, or shorten that interval." (get $shown "maxStaleness") (get $shown $slowestKey) $slowestEndpoint) }}
{{- end }}
{{- end }}

{{/*
The port of an Admin API URL: the one written in it, or the scheme's (443 for
https, 80 for http).
*/}}
{{- define "mistral-admin-exporter.urlPort" -}}
{{- $parsed := urlParse (trim .) }}
{{- $port := regexFind `:[0-9]+$` $parsed.host | trimPrefix ":" }}
{{- if $port }}{{ $port | int }}{{ else if eq (lower $parsed.scheme) "http" }}80{{ else }}443{{ end }}
{{- end }}

{{/*
The ports of the Admin API, as a JSON list without repeats: that of the URL
the exporter will use (config.apiUrl, or its default), and with
organizations, that of each organization's MISTRAL_ADMIN_API_URL (the pod's
URL only when an organization has none of its own).
*/}}
{{- define "mistral-admin-exporter.apiPorts" -}}
{{- $s := include "mistral-admin-exporter.settings" . | fromJson }}
{{- $given := include "mistral-admin-exporter.givenSettings" . | fromJson }}
{{- $url := (get $s.settings "apiUrl").default }}
{{- if hasKey $given "apiUrl" }}{{ $url = (get $given "apiUrl").text }}{{ end }}
{{- $urls := list }}
{{- $orgs := .Values.organizations | default list }}
{{- range $o := $orgs }}
{{- $own := get (get $o "settings" | default dict) "MISTRAL_ADMIN_API_URL" }}
{{- $urls = append $urls (ternary (toString $own) $url (not (kindIs "invalid" $own))) }}
{{- end }}
{{- if not $orgs }}{{ $urls = list $url }}{{ end }}
{{- $ports := list }}
{{- range $u := $urls }}
{{- $port := include "mistral-admin-exporter.urlPort" $u | int }}
{{- if not (has $port $ports) }}{{ $ports = append $ports $port }}{{ end }}
{{- end }}
{{- toJson $ports }}
{{- end }}

{{/*
The blocks of values whose keys the templates read must be maps. A null
(`--set existingSecret=null`, or `existingSecret: null` in a values file)
removes a block from the values altogether, which would end the render with
Go's "nil pointer evaluating interface {}.name"; this says what to do instead.
Included first by every template (Helm runs them in an order of its own).
*/}}
{{- define "mistral-admin-exporter.checkBlocks" -}}
{{- $instead := dict
  "image" "set image.repository, image.tag or image.digest"
  "apiKey" "to give no key here, leave apiKey.value empty (its default)"
  "existingSecret" "to use no existing Secret, leave existingSecret.name empty (its default) and give apiKey.value, or set demo=true"
  "userIdHashKey" "to hash no user ids, leave userIdHashKey.value and userIdHashKey.existingSecret.name empty (their defaults)"
  "userIdHashKey.existingSecret" "to use no existing Secret, leave userIdHashKey.existingSecret.name empty (its default)"
  "service" "set service.type, service.port, service.labels or service.annotations"
  "serviceMonitor" "to create none, set serviceMonitor.enabled=false (its default)"
  "prometheusRule" "to create none, set prometheusRule.enabled=false (its default)"
  "grafanaDashboards" "to create none, set grafanaDashboards.enabled=false (its default)"
  "networkPolicy" "to create none, set networkPolicy.enabled=false (its default)"
  "podDisruptionBudget" "to create none, set podDisruptionBudget.enabled=false (its default)"
  "web" "for plain HTTP without authentication, leave web.tls.enabled false, web.basicAuth.users empty and web.existingSecret.name empty (their defaults)"
  "web.tls" "for plain HTTP, set web.tls.enabled=false (its default)"
  "web.basicAuth" "for no basic authentication, leave web.basicAuth.users empty (its default)"
  "web.existingSecret" "to use no web config of your own, leave web.existingSecret.name empty (its default)"
  "web.bearerToken" "for no bearer token, leave web.bearerToken.existingSecret.name empty (its default)"
  "web.bearerToken.existingSecret" "for no bearer token, leave web.bearerToken.existingSecret.name empty (its default)"
}}
{{- range $path := list "image" "apiKey" "existingSecret" "userIdHashKey" "userIdHashKey.existingSecret" "service" "serviceMonitor" "prometheusRule" "grafanaDashboards" "networkPolicy" "podDisruptionBudget" "web" "web.tls" "web.basicAuth" "web.existingSecret" "web.bearerToken" "web.bearerToken.existingSecret" }}
{{- $node := $.Values }}
{{- range $part := splitList "." $path }}
{{- if kindIs "map" $node }}{{ $node = get $node $part }}{{ else }}{{ $node = "" }}{{ end }}
{{- end }}
{{- if not (kindIs "map" $node) }}
{{- fail (printf "%s is missing: a null (--set %s=null, or %s: null in a values file) removes the whole block, whose values the chart reads. Instead: %s." $path $path $path (get $instead $path)) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
What the schema cannot check in the pod's values: that the labels given do not
redefine the chart's own (the selectors rely on them, and a key twice breaks
the YAML), and that extra volumes and mounts keep clear of the chart's.
Included by deployment.yaml.
*/}}
{{- define "mistral-admin-exporter.checkPod" -}}
{{- $own := include "mistral-admin-exporter.labels" . | fromYaml }}
{{- range $what, $labels := dict "podLabels" .Values.podLabels "service.labels" .Values.service.labels "serviceMonitor.labels" .Values.serviceMonitor.labels "prometheusRule.additionalLabels" .Values.prometheusRule.additionalLabels "grafanaDashboards.labels" .Values.grafanaDashboards.labels }}
{{- range $key, $_ := ($labels | default dict) }}
{{- if hasKey $own $key }}
{{- fail (printf "%s: %s is a label the chart sets itself (to %s): leave it out (the chart's selectors rely on its labels, and a key twice breaks the YAML)." $what $key (get $own $key)) }}
{{- end }}
{{- end }}
{{- end }}
{{- $volumes := list "tmp" "api-key" "user-id-hash-key" "web-config" "web-tls" "web-bearer-token" "organizations-config" "organization-keys" }}
{{- range $v := (.Values.extraVolumes | default list) }}
{{- $name := get $v "name" | toString }}
{{- if has $name $volumes }}
{{- fail (printf "extraVolumes: %s is the name of a volume of the chart, or of another extra volume: give it another name." $name) }}
{{- end }}
{{- $volumes = append $volumes $name }}
{{- end }}
{{- $paths := list }}
{{- range $m := (.Values.extraVolumeMounts | default list) }}
{{- $path := get $m "mountPath" | toString | trimSuffix "/" }}
{{- if or (eq $path "/tmp") (hasPrefix "/etc/mistral-admin-exporter" $path) (has $path $paths) }}
{{- fail (printf "extraVolumeMounts: %s is where the chart mounts a volume of its own (/tmp, /etc/mistral-admin-exporter/...), or another extra mount: mount it elsewhere." $path) }}
{{- end }}
{{- $paths = append $paths $path }}
{{- end }}
{{- end }}

{{/*
A key given as a value, as the exporter will read it from the mounted file:
trimmed, and then without spaces or control characters (the exporter refuses
such a key when it starts).
*/}}
{{- define "mistral-admin-exporter.checkKey" -}}
{{- if regexMatch `[\p{Z}\p{Cc}\x{feff}]` (trim .value) }}
{{- fail (printf "%s: the key contains spaces or control characters, which the exporter refuses: check how it was copied." .what) }}
{{- end }}
{{- end }}

{{/*
Several organizations (values `organizations`): each a name (the `org` label),
its key from a Secret (existingSecret, or apiKey.value in the chart's own
Secret) and settings by their environment variable names. Fails the render on
what the exporter would refuse or the chart cannot mount: the top-level key
given too, a name that is missing, invalid or twice, a key missing or given
twice (outside demo mode), a setting that is not one, one of the whole process
(HOST, PORT, LOG_LEVEL, WEB_*, HTTP_*), and the keys and files the chart sets.
*/}}
{{- define "mistral-admin-exporter.checkOrganizations" -}}
{{- $orgs := .Values.organizations | default list }}
{{- if $orgs }}
{{- if or .Values.existingSecret.name .Values.apiKey.value }}
{{- fail "organizations and the top-level key (existingSecret.name or apiKey.value) are both set: with organizations, each names its own key (organizations[].existingSecret.name, or organizations[].apiKey.value); leave existingSecret.name and apiKey.value empty." }}
{{- end }}
{{- $s := include "mistral-admin-exporter.settings" . | fromJson }}
{{- $names := list }}
{{- range $i, $o := $orgs }}
{{- if not (kindIs "map" $o) }}
{{- fail (printf "organizations[%d]: an organization is a map with name, existingSecret (or apiKey) and settings." $i) }}
{{- end }}
{{- $name := get $o "name" | default "" | toString }}
{{- if or (not (kindIs "string" (get $o "name"))) (not (regexMatch `^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$` $name)) }}
{{- fail (printf "organizations[%d].name=%q: an organization needs a name of letters, digits, _, . and -, starting with a letter or digit, at most 63 characters (it becomes the org label of its series)." $i $name) }}
{{- end }}
{{- if has $name $names }}
{{- fail (printf "organizations[%d].name=%q: named twice. Each organization once: two entries with one name would mix their series under one org label." $i $name) }}
{{- end }}
{{- $names = append $names $name }}
{{- $what := printf "organizations[%d] %q" $i $name }}
{{- $secretName := get (get $o "existingSecret" | default dict) "name" | default "" }}
{{- $keyValue := get (get $o "apiKey" | default dict) "value" | default "" }}
{{- if not $.Values.demo }}
{{- if and $secretName $keyValue }}
{{- fail (printf "%s: both existingSecret.name and apiKey.value are set: keep one (existingSecret.name is recommended)." $what) }}
{{- end }}
{{- if not (or $secretName $keyValue) }}
{{- fail (printf "%s: an Admin API key is required: set existingSecret.name to a Secret holding this organization's key (kubectl create secret generic mistral-%s --from-literal=api-key=...; recommended), or apiKey.value." $what (lower $name)) }}
{{- end }}
{{- if $keyValue }}{{ include "mistral-admin-exporter.checkKey" (dict "what" (printf "%s: apiKey.value" $what) "value" $keyValue) }}{{ end }}
{{- end }}
{{- range $env, $value := (get $o "settings" | default dict) }}
{{- if kindIs "invalid" $value }}
{{- fail (printf "%s: settings.%s is null: give it a value, or leave it out (the pod's value then applies)." $what $env) }}
{{- else if hasKey $s.orgRefused $env }}
{{- fail (printf "%s: settings.%s: %s." $what $env (get $s.orgRefused $env)) }}
{{- else if not (hasKey $s.orgSettings $env) }}
{{- fail (printf "%s: settings.%s is not a setting of the exporter: name settings by their environment variables (the README's settings table), e.g. MISTRAL_WORKSPACE_IDS or REFRESH_INTERVAL_USAGE." $what $env) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The Secret and key holding one organization's Admin API key (the organization
as a dict): its existingSecret, or the chart's own Secret under
organization.<name>.api-key.
*/}}
{{- define "mistral-admin-exporter.orgKeySecretName" -}}
{{- get (get .org "existingSecret" | default dict) "name" | default (include "mistral-admin-exporter.fullname" .root) }}
{{- end }}
{{- define "mistral-admin-exporter.orgKeySecretKey" -}}
{{- $secret := get .org "existingSecret" | default dict }}
{{- if get $secret "name" }}{{ get $secret "key" | default "api-key" }}{{ else }}{{ printf "organization.%s.api-key" (get .org "name") }}{{ end }}
{{- end }}

{{/*
The ConfigMap holding the organizations file.
*/}}
{{- define "mistral-admin-exporter.organizationsConfigMapName" -}}
{{- printf "%s-organizations" (include "mistral-admin-exporter.fullname" . | trunc 49 | trimSuffix "-") }}
{{- end }}

{{/*
Where the chart mounts the organizations file, and each organization's key
(by name).
*/}}
{{- define "mistral-admin-exporter.organizationsFilePath" -}}
/etc/mistral-admin-exporter/config/organizations.yaml
{{- end }}
{{- define "mistral-admin-exporter.orgKeyPath" -}}
{{- printf "/etc/mistral-admin-exporter/organizations/%s/api-key" . }}
{{- end }}

{{/*
The organizations file the exporter reads (--config.file): per organization
its name, its key file (outside demo mode) and its settings, each a string.
The pod's environment (config, extraEnv, extraArgs) applies under them.
*/}}
{{- define "mistral-admin-exporter.organizationsFile" -}}
# Written by the chart from its `organizations` values. Each organization's
# settings win over the pod's environment and flags for that organization.
organizations:
{{- range $o := .Values.organizations }}
  - name: {{ get $o "name" | toString | toJson }}
    {{- if not $.Values.demo }}
    MISTRAL_ADMIN_API_KEY_FILE: {{ include "mistral-admin-exporter.orgKeyPath" (get $o "name") | toJson }}
    {{- end }}
    {{- range $env, $value := (get $o "settings" | default dict) }}
    {{ $env }}: {{ include "mistral-admin-exporter.envValue" $value | toJson }}
    {{- end }}
{{- end }}
{{- end }}
