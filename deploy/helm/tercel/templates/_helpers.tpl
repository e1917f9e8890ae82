{{/* Names and labels. */}}
{{- define "tercel.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tercel.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "tercel.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tercel.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tercel.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "tercel.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "tercel.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "tercel.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "tercel.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.registry -}}
{{- printf "%s/%s:%s" .Values.image.registry .Values.image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/*
tercel.yaml: .Values.tercel, plus the driver settings, the container runtime sockets and, with
falcosidekick.enabled, JSON alerts over HTTP to it. Keys set under .Values.tercel win over the
driver/containerEngines shortcuts.
*/}}
{{- define "tercel.config" -}}
{{- $cfg := deepCopy (default dict .Values.tercel) -}}
{{- $ebpf := dict "buf_size_preset" .Values.driver.bufSizePreset "cpus_for_each_buffer" .Values.driver.cpusForEachBuffer "drop_failed_exit" .Values.driver.dropFailedExit -}}
{{- $engine := dict "kind" "modern_ebpf" "modern_ebpf" $ebpf -}}
{{- $_ := set $cfg "engine" (mergeOverwrite $engine (deepCopy (default dict $cfg.engine))) -}}
{{- if not (hasKey $cfg "plugins") -}}
{{- $ce := .Values.containerEngines -}}
{{- $engines := dict -}}
{{- range $kind := list "docker" "podman" "cri" "containerd" -}}
{{- $sockets := default list (get $ce $kind) -}}
{{- $_ := set $engines $kind (dict "enabled" (gt (len $sockets) 0) "sockets" $sockets) -}}
{{- end -}}
{{- $container := dict "name" "container" "init_config" (dict "enabled" $ce.enabled "engines" $engines) -}}
{{- $_ := set $cfg "plugins" (list $container) -}}
{{- end -}}
{{- if .Values.falcosidekick.enabled -}}
{{- $_ := set $cfg "json_output" true -}}
{{- $_ := set $cfg "json_include_output_property" true -}}
{{- $http := mergeOverwrite (deepCopy (default dict $cfg.http_output)) (dict "enabled" true "url" .Values.falcosidekick.url) -}}
{{- $_ := set $cfg "http_output" $http -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}
