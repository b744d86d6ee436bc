"""The sentiment word lists of `classify.lexicon` (data, not logic): words whose tone is clear in almost
every context, with their inflected forms, and emoji. Written for this project (not copied from a published
lexicon), measured in `classify/lexicon.py`. Plain words, as French writes them or already folded; the
model folds them like its texts, and a word that lands on both sides is dropped. Topic words (prix,
attente, grève...) and words whose tone depends on the context (trop, jamais, long, léger, terrible...)
are left out on purpose."""

POSITIVE = """
abouti aboutie abouties aboutis acclamation acclamations acclamé acclamée acclamées
acclamés accueillant accueillante accueillantes accueillants addictif addictifs addictive
addictives admirable admirablement admirables admiration adorable adorables adore adorent
adorer adoré adorée adorées adorés affection agreable agreables agréable agréablement
agréables aimable aimablement aimables aime aiment aimer aimons aimé aimée aimées aimés
allégresse amabilité amabilités amelioration ameliore ameliorer amical amicale amicalement
amicales amicaux amitié amitiés amour amours amusant amusante amusantes amusants apaisant
apaisante apaisantes apaisants apaisement apothéose applaudi applaudie applaudir applaudis
applaudissements applaudissent applaudit apprécie apprécient apprécier apprécié appréciée
appréciées appréciés appétissant appétissante appétissantes appétissants atout atouts
attentif attentifs attentionné attentionnée attentionnées attentionnés attentive
attentives aubaine aubaines authentique authentiques avantageuse avantageuses avantageux
beau beauté beautés beaux bel belle belles bien bien-être bienfait bienfaits bienveillance
bienveillant bienveillante bienveillantes bienveillants bluffant bluffante bluffantes
bluffants bon bonheur bonheurs bonne bonnes bons bouleversant bouleversante bouleversantes
bouleversants bravo bravos brillamment brillant brillante brillantes brillants brio
bénédiction bénédictions bénéfique bénéfiques captivant captivante captivantes captivants
chaleureuse chaleureusement chaleureuses chaleureux chance chances chanceuse chanceuses
chanceux chapeau charmant charmante charmantes charmants charme charmes
chef-d'oeuvre chef-d'œuvre chefs-d'oeuvre chefs-d'œuvre chic chics chouchoute chouchoutent
chouchouter chouchouté chouchoutée chouchoutées chouchoutés chouette chouettes comblé
comblée comblées comblés competent competente complicité compliment compliments compétence
compétences compétent compétente compétentes compétents confiance confortable confortables
conquis conquise conquises conseille consécration content contente contentement contentes
contents convivial conviviale conviviales conviviaux cool cordial cordiale cordialement
cordiales cordiaux coup-de-cœur coups-de-cœur courageuse courageuses courageux courtois
courtoise courtoises courtoisie craquant craquante craquantes craquants debloque
delicieuse delicieux dingue divertissant divertissante divertissantes divertissants
divinement doué douée douées doués drole drôle drôles délectation délice délices
délicieuse délicieusement délicieuses délicieux dévouement dévoué dévouée dévouées dévoués
efficace efficacement efficaces efficacité embellie embellies emouvant encensé encensée
encensées encensés enchantement enchanté enchantée enchantées enchantés encourage
encourageant encourageante encourageantes encourageants encouragent encourager encouragé
encouragée encouragées encouragés enthousiasme enthousiasmes enthousiaste enthousiastes
entraide envoûtant envoûtante envoûtantes envoûtants epoustouflant espoir espoirs
espérance espérances essor euphorie excellence excellent excellente excellentes excellents
exceptionnel exceptionnelle exceptionnellement exceptionnelles exceptionnels exemplaire
exemplaires exploit exploits exquis exquise exquises extase extraordinaire extraordinaires
facile fantastique fantastiques fascinant fascinante fascinantes fascinants favorable
favorablement favorables felicitations felicite ferveur fiabilité fiable fiables fier
fiers fierté finesse finesses fière fières fluide fluides formidable formidablement
formidables fructueuse fructueuses fructueux fun féerique féeriques félicitations félicite
félicitent féliciter félicité félicitée félicitées félicités gagnant gagnante gagnantes
gagnants gaieté gaîté genial geniale genialissime geniaux gentil gentille gentilles
gentillesse gentils gentiment grandiose grandioses gratitude génial géniale génialement
géniales génialissime génialissimes géniaux généreuse généreusement généreuses généreux
générosité haletant haletante haletantes haletants harmonie harmonies harmonieuse
harmonieuses harmonieux heureuse heureusement heureuses heureux hilarant hilarante
hilarantes hilarants honnête honnêtes honnêteté hourra héros héroïsme idyllique idylliques
idéal idéale idéalement idéales idéals idéaux imbattable imbattables impec impeccable
impeccablement impeccables impressionne impressionnent impressionner impressionné
impressionnée impressionnées impressionnés incontournable incontournables incroyable
incroyablement incroyables ingéniosité innovant innovante innovantes innovants inoubliable
inoubliables inspirant inspirante inspirantes inspirants intelligemment intelligent
intelligente intelligentes intelligents intuitif intuitifs intuitive intuitives
irréprochable irréprochables irrésistible irrésistibles joie joies joli jolie jolies
joliment jolis joyeuse joyeusement joyeuses joyeux jubilation kif kiff kiffant kiffante
kiffantes kiffants kiffe kiffent kiffer kiffé kiffée kiffées kiffés louange louanges love
loyauté lumineuse lumineuses lumineux magie magique magiques magistral magistrale
magistrales magistraux magnifique magnifiquement magnifiques marrant marrante marrantes
marrants maîtrisé maîtrisée maîtrisées maîtrisés meilleur meilleure meilleurs merci mercii
mercis merveille merveilles merveilleuse merveilleusement merveilleuses merveilleux miam
mignon mignonne mignonnes mignons miracle miracles mémorable mémorables nickel novateur
novateurs novatrice novatrices optimisme optimiste optimistes ouah ouf ovation ovations
paisible paisibles paix palpitant palpitante palpitantes palpitants paradis parfait
parfaite parfaitement parfaites parfaits passionnant passionnante passionnantes
passionnants passionné passionnée passionnées passionnés patient patiente patientes
patients perfection performant performante performantes performants pertinent pertinente
pertinentes pertinents phénoménal phénoménale phénoménales phénoménaux plaisant plaisante
plaisantes plaisants plaisir plaisirs plébiscite plébiscites plébiscité plébiscitée
plébiscitées plébiscités poignant poli polie polies polis politesse positif positifs
positive positivement positives pratique precieuse precieux primé primée primées primés
professionnalisme professionnel professionnelle progres progrès prometteur prometteurs
prometteuse prometteuses prouesse prouesses puissant puissante pépite pépites quiétude
radieuse radieuses radieux raffinement raffiné raffinée raffinées raffinés raffole
raffolent raffoler raffolé rafraîchissant rafraîchissante rafraîchissantes rafraîchissants
rapide rapidement rapides rassurant rassurante rassurantes rassurants rassure rassurent
rassurer rassuré rassurée rassurées rassurés ravi ravie ravies ravis ravissant ravissante
ravissantes ravissants ravissement ravissent ravit rayonnant rayonnante rayonnantes
rayonnants reactif reactive recommande recommandent recommander recommandez recommandons
regal regle reglee relaxant relaxante relaxantes relaxants remarquable remarquablement
remarquables rembourse remboursee remercie remerciement remerciements remercient remercier
remercions remercié remerciée remerciées remerciés reposant reposante reposantes reposants
resolu resolue respect respectueuse respectueuses respectueux reussi reussie reussite
rigolo rigolos rigolote rigolotes robuste réactif réactifs réactive réactives récompensé
récompensée récompensées récompensés réconfort réconfortant réconfortante réconfortantes
réconfortants régal régale régalent régaler régals régalé régalée régalées régalés réjoui
réjouie réjouies réjouir réjouis réjouissant réjouissante réjouissantes réjouissants
réjouissent réjouit résolu résolue résolues résolus réussi réussie réussies réussir
réussis réussissent réussit réussite réussites rêve rêves sagesse salué saluée saluées
salués satisfaction satisfactions satisfaisant satisfaisante satisfaisantes satisfaisants
satisfait satisfaite satisfaites satisfaits savoure savourent savourer savoureuse
savoureuses savoureux savouré savourée savourées savourés sensationnel sensationnelle
sensationnelles sensationnels serein sereine sereinement sereines sereins serviable
serviables sincère sincères sincérité soigneusement soigné soignée soignées soignés
solidarité solidarités solide solides somptueuse somptueuses somptueux soulage soulagee
soulagement soulagent soulager soulagé soulagée soulagées soulagés souriant souriante
souriantes souriants sourire sourires splendeur splendeurs splendide splendides stylé
stylée stylées stylés sublime sublimes subtil subtile subtiles subtils succes succulent
succulente succulentes succulents succès super superbe superbement superbes sympa sympas
sympathie sympathies sympathique sympathiques séduire séduisant séduisante séduisantes
séduisants séduisent séduit séduite séduites séduits sérénité talent talents talentueuse
talentueuses talentueux tendresse tendresses top topissime touchant touchante touchantes
touchants triomphal triomphale triomphales triomphaux triomphe triomphes utile utiles
victoire victoires victorieuse victorieuses victorieux virtuosité volontiers waou waouh
wow youpi éblouissant éblouissante éblouissantes éblouissants éloge éloges élégamment
élégance élégant élégante élégantes élégants émerveillement émerveillé émerveillée
émerveillées émerveillés émeut émouvant émouvante émouvantes émouvants émouvoir épanoui
épanouie épanouies épanouis épatant épatante épatantes épatants épate épatent épater épaté
épatée épatées épatés époustouflant époustouflante époustouflantes époustouflants ☺️ ✅ ✨ ❤
❤️ 🎉 🏆 👌 👍 👏 💕 💖 💗 💞 💪 💯 😀 😁 😃 😄 😇 😊 😍 😘 🙂 🙏 🤗 🤩 🥰 🥳
""".split()

NEGATIVE = """
absurde absurdes abus abusif abusifs abusive abusives abusé abusée abusées abusés abîmé
abîmée abîmées abîmés accident accidents affligeant affligeante affligeantes affligeants
affreuse affreusement affreuses affreux affront affronts agacant agace agacement agacent
agacé agacée agacées agacés agaçant agaçante agaçantes agaçants agonie agressif agressifs
agression agressions agressive agressives alarmant alarmante alarmantes alarmants
amateurisme amende angoisse angoisses anxieuse anxieuses anxieux anxiété argh arnaque
arnaques arnaqueur arnaqueurs arnaqueuse arnaqueuses arnaqué arnaquée arnaquées arnaqués
arrogance arrogant arrogante arrogantes arrogants assassinat assassinats atroce atrocement
atroces attentat attentats attente aïe bavure bavures berk beug beugs beurk bide bides
bidon blessant blessante blessantes blessants bloque bloquee bof bogue bogues bolos boloss
bordel bouffon bouffons bouse bouses brutal brutale brutales brutaux bruyant bruyante
bruyantes bruyants bug buggé buggée buggées buggés bugs bugué buguée buguées bugués bâcle
bâclent bâcler bâclé bâclée bâclées bâclés bérézina bêtement cafouillage calvaire
calvaires camouflet camouflets carnage casse casse-couilles casse-pieds cassee cassé
cassée cassées cassés cata catastrophe catastrophes catastrophique catastrophiques
cauchemar cauchemars chagrin chantage chaos chiant chiante chiantes chiants choquant
choquante choquantes choquants choqué choquée choquées choqués chute colere colère
compliqué compliquée compliquées compliqués con condamnation condamne connard connards
connasse connasses conne connerie conneries cons controverse controverses corruption couac
couacs coupure coupures craignent craindre crains craint crise crises cruel cruelle
cruellement cruelles cruels cucul danger dangereuse dangereusement dangereuses dangereux
dangers daube daubes deception decevant decevante decoit decu decue decus defaut
defectueuse defectueux degoutant degoute degoutee desastre desastreux deteste detester
deuil difficile difficiles discrimination discriminations dommage dommages douleur
douloureuse douloureusement douloureuses douloureux douteuse douteuses douteux dramatique
dramatiques drame drames dysfonctionnement dysfonctionnements débandade débile débiles
déboires débâcle débâcles déception déceptions décevant décevante décevantes décevants
décevoir déconvenue déconvenues décrié décriée décriées décriés défaillance défaillances
défaillant défaillante défaillantes défaillants défectueuse défectueuses défectueux dégoût
dégoûtant dégoûtante dégoûtantes dégoûtants dégoûte dégoûté dégoûtée dégoûtées dégoûtés
dégringolade dégueu dégueulasse dégueulasses dégueux dégât dégâts dénonce dénoncent
dénoncer dénoncé dénoncée dénoncées dénoncés déplorable déplorables déplore déplorent
déplorer déploré déplorée déplorées déplorés déprimant déprimante déprimantes déprimants
déprime déprimé déprimée déprimées déprimés dérapage dérapages dérive dérives désagréable
désagréablement désagréables désarroi désastre désastres désastreuse désastreuses
désastreux désaveu désespoir désespère désespérer désespéré désespérée désespérées
désespérés désolant désolante désolantes désolants désolation déteste détestent détester
détestons détesté détestée détestées détestés détresse déçoit déçoivent déçu déçue déçues
déçus echec echoue effondrement effrayant effrayante effrayantes effrayants emmerdeur
emmerdeurs emmerdeuse endommagé endommagée endommagées endommagés enervant enerve enervee
enfer ennui ennuie ennuient ennuis ennuyer ennuyeuse ennuyeuses ennuyeux erreur erreurs
escroc escrocs escroquerie escroqueries exaspère exaspèrent exaspérant exaspérante
exaspérantes exaspérants exaspération exaspéré exaspérée exaspérées exaspérés exécrable
exécrables fade fades faillite faillites fiasco fiascos flop flops fléau fléaux foirer
foireuse foireuses foireux foiré foirée foirées foirés foutage foutoir fraude fraudes
frauduleuse frauduleuses frauduleux frustrant frustrante frustrantes frustrants
frustration frustrations frustré frustrée frustrées frustrés fuite fuites furax fureur
furieuse furieuses furieux fustigé fustigée fustigées fustigés fâché fâchée fâchées fâchés
galere galerer galère galèrent galères galérer galéré gaspillage gaspille gaspillent
gaspiller gaspillé gaspillée gaspillées gaspillés gnangnan greve grevé grief griefs
grossier grossiers grossière grossières grossièreté grr grrr gâche gâchent gâcher gâchis
gâché gâchée gâchées gâchés hack haine hair hais hait harceler harcelé harcelée harcelées
harcelés harcèle harcèlement harcèlent haïr haïssent helas honte honteuse honteusement
honteuses honteux horreur horreurs horrible horriblement horribles hostile hostiles
humiliant humiliante humiliantes humiliants humiliation humiliations hué huée huées hués
hécatombe hélas idiot idiote idiotes idiots ignoble ignobles illégaux immonde immondes
impoli impolie impolies impolis impolitesse impossible impossibles imposteur imposteurs
imposture inacceptable inacceptables inadmissible inadmissibles incapable incapables
incident incidents incompetent incompetente incompetents incompréhensible
incompréhensibles incompétence incompétent incompétente incompétentes incompétents
inconfortable inconfortables indignation indigne indignes indigné indignée indignées
indignés indisponible indisponibles inefficace inefficaces inexistant inexistante
inexistantes inexistants infect infecte infectes infects injoignable injoignables injure
injures injuste injustement injustes injustice injustices injustifié injustifiée
injustifiées injustifiés inquiet inquiets inquiète inquiètes inquiétant inquiétante
inquiétantes inquiétants inquiétude inquiétudes insatisfait insatisfaite insatisfaites
insatisfaits insuffisant insuffisante insuffisantes insuffisants insultant insultante
insultantes insultants insulte insultent insulter insultes insulté insultée insultées
insultés insupportable insupportables interminable interminables intolérable intolérables
inutile inutiles inutilisable inutilisables irrespect irrespectueuse irrespectueuses
irrespectueux irresponsable irresponsables irritant irritante irritantes irritants jalouse
jalouses jaloux je-m'en-foutisme jemenfoutisme krach laid laide laides laids lamentable
lamentablement lamentables lassitude lent lente lentement lenteur lents
licenciement licenciements litige litiges loupé loupée loupées loupés magouille magouilles
mal malchance malheur malheureuse malheureusement malheureuses malheureux malheurs
malhonnête malhonnêtes marasme marre massacre massacres mauvais mauvaise mauvaises
mediocre menace menaces mensonge mensonger mensongers mensonges mensongère mensongères
ment mentent menteur menteurs menteuse menteuses mentir merde merdes merdique merdiques
meurtre meurtres minable minables misère misérablement moche moches moisi moisie moisies
moisis morosité mortel mortelle mortelles mortels méchamment méchant méchante méchantes
méchants mécontent mécontente mécontentes mécontents médiocre médiocrement médiocres
médiocrité mépris méprisant méprisante méprisantes méprisants méprise méprisent mépriser
méprisé méprisée méprisées méprisés nanar nanars nase naufrage naufrages navet navets
navrant navrante navrantes navrants naze nazes non-conforme non-conformes non-conformité
nuisible nuisibles nul nulle nulles nullité nullos nuls néfaste néfastes négatif négatifs
négative négatives négligence négligent négligente négligentes négligents odieuse odieuses
odieux outrage outrages pagaille panne pannes pathétique pathétiques penalite peur peurs
pff pfff piratage pirate pire pires pitoyable pitoyablement pitoyables plaignent plaindre
plains plaint plainte plaintes plantage plantages pleure pleurent pleurer poisse polémique
polémiques pourrave pourraves pourri pourrie pourries pourris pourrit probleme problemes
problème problèmes pénible pénibles pénurie pénuries périmé périmée périmées périmés
racisme racket rage rageant rageante rageantes rageants ras-le-bol rate ratee ratent
rater raté ratée ratées ratés raz-le-bol reclamation recul regret regrets regrette
regrettent regretter relou relous reproche reproches retard retards revers ridicule
ridicules râle râlent râler récession réclamation réclamations révoltant révoltante
révoltantes révoltants révolté révoltée révoltées révoltés sabotage sanction sanctionne
saoulant saoulante saoulantes saoulants saoule saoulent saouler scandale scandales
scandaleuse scandaleusement scandaleuses scandaleux scandalisé scandalisée scandalisées
scandalisés soporifique soporifiques souci soucis souffrance souffrances souffre souffrent
souffrir soûle stress stupide stupidement stupides subi subie subies subir subis subissent
subit terrible terrifiant terrifiante terrifiantes terrifiants tocard tocards tollé
toxique toxiques tragique tragiquement tragiques tragédie tragédies triste tristement
tristes tristesse tromperie tromperies trompeur trompeurs trompeuse trompeuses tuerie
tueries victime victimes violence violences violent violente violentes violents voleur
voleurs voleuse voleuses zut échec échecs échoue échouent échouer échoué échouée échouées
échoués écœurant écœurante écœurantes écœurants écœure écœurement énervant énervante
énervantes énervants énerve énervent énerver énervé énervée énervées énervés épouvantable
épouvantables épuisant épuisante épuisantes épuisants épuisé épuisée épuisées épuisés ☹️ 👎
💔 💩 😒 😓 😔 😖 😞 😟 😠 😡 😢 😣 😤 😥 😩 😫 😭 😰 🙁 🙃 🙄 🤡 🤢 🤬 🤮
""".split()
